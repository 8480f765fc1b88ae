import { messageOf } from '../../rules/messages.js';
import { createColors } from 'picocolors';
import type { Finding, LinkRecord, Summary, UnreadableRecord } from '../../audit/records.js';
import { toDisplay, toJsonText } from '../../core/bytes.js';
import type { AppliedChange } from '../../fix/applied-change.js';
import { hostOf, isAbsolute, isWithin } from '../../core/paths.js';
import type { Severity } from '../../rules/registry.js';
import { pathNamer, type ScanLabels } from '../display-path.js';
import { compactLine } from './compact.js';
import { fails, mustAct, splitConcurrent } from '../must-act.js';
import { limitsOf, moreChangesLine, RuleCap } from '../limits.js';
import { RuleTable } from '../rule-table.js';
import type { ImageHeader, ReportHeader } from '../json-shape.js';
import { layerShort } from '../../rules/layer-ambiguity.js';
import type { LayerName } from '../../rules/types.js';
import type { Reporter, ReportContext } from '../reporter.js';
import { verdict, type VerdictWords } from '../verdict.js';

type Colors = ReturnType<typeof createColors>;

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

/** The fewest characters of a link text worth showing beside the verdict on one line. */
const MIN_TEXT = 24;

/** Rules whose message is not the headline's story told again. */
const OWN_STORY = new Set(['requirement', 'deploy-layout']);

/** What every block of the report is written with: the run's context, its colours, how it names paths. */
interface Style {
  ctx: ReportContext;
  c: Colors;
  sev: Record<Severity, (s: string) => string>;
  name: (hostPath: string) => string;
}

/** How the run's context writes: its colours, and how it names paths. */
function styleOf(ctx: ReportContext): Style {
  const c = createColors(ctx.color);
  return { ctx, c, sev: { error: c.red, warning: c.yellow, info: c.blue }, name: pathNamer(ctx.scanLabels) };
}

/**
 * For people: one block per problem link, paths relative to the scanned path (ESLint's stylish,
 * Ruff's concise): a headline that says what breaks in the jail's words, one line naming the
 * link's rules by severity, one line with the fix --fix would make or why there is none; then a
 * summary line. Every name is escaped (toDisplay), so a newline or escape sequence in a name
 * cannot fake a line or recolour the terminal.
 */
export function prettyReporter(ctx: ReportContext): Reporter {
  const st = styleOf(ctx);
  const c = st.c;
  const limits = limitsOf(ctx);
  // Problem links listed per rule; the rest counted (--all lifts the cap).
  const cap = new RuleCap(limits.links);
  const table = new RuleTable();
  const unreadable: string[] = [];
  // --quiet with --fix or --dry-run: only the changes (or the plan) are printed, for cron mail.
  const onlyChanges = ctx.quiet && ctx.mode !== 'audit';
  // --fix --quiet (cron): besides the changes, what is still wrong, a compact line each.
  // --fix --dry-run --quiet previews exactly that: the plan, then what would be left.
  const cron = onlyChanges && (ctx.mode === 'fix' || ctx.mode === 'dry-run');
  const left = cron ? leftFindings(st, limits.links) : null;
  // --quiet: only what is at or above --fail-on (ESLint's --quiet): what makes the exit code 1.
  const shown = (findings: readonly Finding[]): readonly Finding[] => (ctx.quiet ? findings.filter((f) => mustAct(f, ctx.failOn)) : findings);
  let words: VerdictWords = { jail: false, root: '/', hop: (p) => toDisplay(p), place: st.name };
  let image = false;
  const forgotten = forgottenRoot(st);

  return {
    begin(h) {
      words = jailWords(h.root, ctx.scanLabels, st.name);
      forgotten.begin(h);
      image = h.image != null;
      return h.image ? imageLine(st, h.image) : '';
    },
    event(ev) {
      if (ev.type === 'unreadable') {
        left?.add(ev.entry.path, [ev.entry.finding], { fixed: false, link: false });
        table.add([ev.entry.finding]);
        if (shown([ev.entry.finding]).length > 0 && cap.admit([ev.entry.finding])) unreadable.push(unreadableBlock(st, ev.entry));
        return '';
      }
      const rec = ev.link;
      forgotten.link(rec);
      // A dry run's plan would fix the link: the real run would not have its findings left.
      left?.add(rec.path, rec.findings, { fixed: ctx.mode === 'dry-run' && rec.fix !== null, link: true });
      table.add(rec.findings);
      const mine = shown(rec.findings);
      if (mine.length === 0 || onlyChanges || !cap.admit(mine)) return '';
      return linkBlock(st, mine === rec.findings ? rec : { ...rec, findings: [...mine] }, words);
    },
    // A failed check on a path that is not a link is counted in the summary, so in the table too;
    // its line is written by withConfigLines (report/config-lines.ts).
    check(ch) {
      table.add(ch.findings);
      return '';
    },
    end(summary, changes) {
      const build = image ? dockerfileLines(st, changes) : '';
      if (left) return cronEnding(st, left.leaves(summary), changes, left.lines()) + build + forgotten.line();
      // The table when the cap held links back: what fired and how often, the listed and the rest.
      const more = cap.moreLines();
      const out = onlyChanges ? '' : unreadable.join('') + (more ? more + '\n' + (ctx.quiet ? '' : table.text(c.dim)) : '');
      return out + ending(st, summary, changes, onlyChanges) + build + forgotten.line();
    },
  };
}

/**
 * What a --fix --quiet run leaves for a person: a compact line per finding at or above --fail-on
 * on a link the run did not fix (capped per rule), and, for a dry run, the summary the real run
 * would end with (the findings its plan leaves).
 */
function leftFindings(st: Style, cap: number) {
  const ctx = st.ctx;
  const rules = new RuleCap(cap);
  let text = '';
  const findings = { error: 0, warning: 0, info: 0 };
  let problems = 0;
  return {
    /** One link's findings (or an unreadable entry's); `fixed`: a dry run's plan fixes the link. */
    add(path: string, list: readonly Finding[], how: { fixed: boolean; link: boolean }): void {
      if (how.fixed || list.length === 0) return;
      if (how.link) problems++;
      for (const f of list) {
        findings[f.severity]++;
        if (mustAct(f, ctx.failOn) && rules.admit([f])) text += compactLine(st.name(path), f);
      }
    },
    lines: (): string => text + rules.moreLines('findings'),
    leaves: (summary: Summary): Summary => (ctx.mode === 'dry-run' ? { ...summary, findings, problems, fixable: 0 } : summary),
  };
}

/**
 * A hint when --root looks forgotten: no root given, and the tree holds absolute links that name
 * it by its own host path (Capistrano's, written for a jail) or the deploy preset is on. Without
 * --root such links resolve and pass; for the jailed service they dangle. The exit code is not
 * changed: a tree no jail reads is judged right.
 */
function forgottenRoot(st: Style): { begin(h: ReportHeader): void; link(rec: LinkRecord): void; line(): string } {
  let watch = false;
  let scanned: readonly string[] = [];
  let why: string | null = null;
  return {
    begin(h) {
      // An image's root is its own: there is no other root to forget.
      watch = h.root === '/' && !h.image;
      scanned = h.scanned.filter((s) => s !== '/');
      if (watch && h.preset === 'deploy') why = 'the deploy preset is on';
    },
    link(rec) {
      if (!watch || why !== null || !isAbsolute(rec.target)) return;
      if (scanned.some((s) => isWithin(rec.target, s))) why = `absolute links name this tree by its host path (${st.name(rec.path)} -> ${toDisplay(rec.target)})`;
    },
    line: () =>
      why === null ? '' : `${st.c.yellow('hint')}: no --root was given, but ${why}: if a chrooted service reads this tree, give its jail root (--root DIR), or every link is judged as the host sees it\n`,
  };
}

/** How verdicts name things under `root`: a link on the way by its report name when it is in the scanned tree. */
function jailWords(root: string, labels: ScanLabels | undefined, name: (hostPath: string) => string): VerdictWords {
  return {
    jail: root !== '/',
    root,
    hop(viewPath, view) {
      const host = view === 'jail' ? hostOf(root, viewPath) : viewPath;
      // A link in the scanned tree by its report name; one elsewhere by its path in that view.
      return labels && labels.some(([s]) => isWithin(host, s)) ? name(host) : toDisplay(viewPath);
    },
    place: name,
  };
}

/** A problem link's block: headline (path, text, verdict), its rules, its fix. */
function linkBlock(st: Style, rec: LinkRecord, words: VerdictWords): string {
  const { ctx, c, sev } = st;
  const worst = SEVERITIES.find((s) => rec.findings.some((f) => f.severity === s))!;
  const path = st.name(rec.path);
  const what = verdict(rec, words);
  const target = toDisplay(rec.target);
  const head = [...path].length + 4;
  const details = `${rulesLine(st, rec.findings, rec.layer)}${fixLine(st, rec)}\n`;
  // Shortened past recognition, the text says nothing: then the verdict takes a line of its own.
  if (ctx.width !== undefined && head + 2 + [...what].length + Math.min(MIN_TEXT, [...target].length) > ctx.width) {
    const text = fitted(target, ctx.width, head);
    return `${c.bold(path)} -> ${text}\n  ${sev[worst](what)}\n${details}`;
  }
  const text = fitted(target, ctx.width, head + 2 + [...what].length);
  return `${c.bold(path)} -> ${text}: ${sev[worst](what)}\n${details}`;
}

/** What --image judged, one line before the blocks (the same for every form of the image; under --quiet, only before something else: see held-opening.ts). */
function imageLine(st: Style, image: ImageHeader): string {
  const n = image.layers.length;
  return st.c.dim(`an image of ${n} layer${n === 1 ? '' : 's'}, judged as its container sees the merged root\n\n`);
}

function rulesLine(st: Style, findings: readonly Finding[], layer?: LayerName): string {
  const { c, sev } = st;
  const groups: string[] = [];
  for (const s of SEVERITIES) {
    const mine = findings.filter((f) => f.severity === s);
    if (mine.length > 0) groups.push(`${sev[s](s)} ${mine.map((f) => `${c.dim(f.code)} ${f.rule}`).join(', ')}`);
  }
  // An image's link says which layer made it: the place to change it in the Dockerfile.
  if (layer) groups.push(c.dim(layerShort(layer, layer.index)));
  let out = `  ${groups.join(c.dim(' · '))}\n`;
  // A layout or requirement finding tells a story of its own (which release, which glob): said in full.
  for (const f of findings) if (OWN_STORY.has(f.rule)) out += `  ${c.dim(f.code)} ${f.rule}: ${messageOf(f)}\n`;
  return out;
}

function fixLine(st: Style, rec: LinkRecord): string {
  const { ctx, c } = st;
  if (rec.fix && ctx.mode !== 'fix') {
    const target = toDisplay(rec.fix.target);
    // The reason's head (before its first ':') names the case; the rest is said when it fits.
    const full = rec.fix.why;
    const why = ctx.width !== undefined && 16 + target.length + full.length > ctx.width ? full.replace(/:.*$/, '') : full;
    return `  ${c.cyan('would fix')}: ${target} ${c.dim('(' + why + ')')}\n`;
  }
  if (rec.noFix) return `  ${c.dim('no fix: ' + rec.noFix)}\n`;
  return '';
}

function unreadableBlock(st: Style, u: UnreadableRecord): string {
  const what = u.finding.message.startsWith('link ') ? 'link' : 'directory';
  const below = what === 'directory' ? '; nothing below it was checked' : '';
  return `${st.c.bold(st.name(u.path))}: ${st.sev[u.finding.severity](`${what} could not be read (${u.errno})${below}`)}\n${rulesLine(st, [u.finding])}\n`;
}

/** --fix --quiet, for cron mail: the changes, a line per finding someone must act on, and the summary only when there is one. */
function cronEnding(st: Style, summary: Summary, changes: readonly AppliedChange[], remaining: string): string {
  const { shown, line } = splitConcurrent(changes);
  const out = changeLines(shown, true, st) + remaining + line;
  return remaining ? out + summaryLine(summary, st.ctx, st.c) + '\n' : out;
}

/** The changes (or the plan), then the summary unless --quiet has nothing to say: the exit code is 0. */
function ending(st: Style, summary: Summary, changes: readonly AppliedChange[], onlyChanges: boolean): string {
  const out = changeLines(changes, onlyChanges, st);
  if (onlyChanges || (st.ctx.quiet && !fails(summary, st.ctx.failOn))) return out;
  return out + summaryLine(summary, st.ctx, st.c) + '\n';
}

/**
 * An image is changed by building it again: --fix --dry-run on one ends with the plan as
 * Dockerfile lines, to add after the layer that writes the links (the same cap as the plan).
 */
function dockerfileLines(st: Style, changes: readonly AppliedChange[]): string {
  const planned = changes.filter((c) => c.status === 'planned');
  if (planned.length === 0) return '';
  const cap = limitsOf(st.ctx).changes;
  let out = '\nIn the Dockerfile, after the layer that writes these links:\n';
  for (const c of planned.slice(0, cap)) out += dockerfileLine(c.new, c.path);
  return out + (planned.length > cap ? `# and ${planned.length - cap} more (--all lists them)\n` : '');
}

/**
 * `ln -sfn -- text path` in the exec form, `RUN ["ln", "-sfn", "--", "text", "path"]`: its
 * strings are JSON's, read with JSON's escapes, so the exact name survives a newline, a quote or
 * a backslash (the shell form would need sh quoting of the exact bytes), and after `--` a text
 * that starts with `-` is not taken for an option. A Dockerfile is UTF-8 text: a name
 * that is not (its bytes as lone surrogates, see toJsonText) gets a comment saying so instead.
 */
function dockerfileLine(text: string, path: string): string {
  const [t, p] = [toJsonText(text), toJsonText(path)];
  if (NOT_UTF8.test(t) || NOT_UTF8.test(p)) {
    return `# ${toDisplay(path)} -> ${toDisplay(text)}: not UTF-8, which a Dockerfile cannot hold; make this link from a script the build copies in and runs\n`;
  }
  return `RUN [${['ln', '-sfn', '--', t, p].map(jsonString).join(', ')}]\n`;
}

const NOT_UTF8 = /[\udc80-\udcff]/;

/**
 * A JSON string literal that a terminal shows as it is: JSON.stringify escapes C0 controls; the
 * characters it leaves raw that could recolour or reorder a line (DEL, C1, bidi controls, line
 * separators) are written as `\uXXXX` too, which JSON reads back as the same characters.
 */
function jsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * `text`, shortened in the middle (…) so that a line of `rest` more columns fits in `width`
 * (a terminal's): the path and what breaks matter more than the whole old text, which pipes,
 * files, `--format compact` and json always get whole.
 */
export function fitted(text: string, width: number | undefined, rest: number): string {
  const chars = [...text];
  if (width === undefined || rest + chars.length <= width) return text;
  const room = width - rest;
  if (room < 2) return '…';
  const head = Math.floor((room - 1) / 2);
  return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - (room - 1 - head)).join('');
}

/** What --fix did (or would do), up to the cap of changes; one line says where the rest are. */
function changeLines(changes: readonly AppliedChange[], onlyChanges: boolean, st: Style): string {
  const { c, name } = st;
  const cap = limitsOf(st.ctx).changes;
  let out = '';
  let listed = 0;
  for (const ch of changes) {
    if (listed++ >= cap) break;
    const line = `${name(ch.path)}: ${toDisplay(ch.old)} -> ${toDisplay(ch.new)}`;
    if (ch.status === 'changed') out += `${c.green('fixed')} ${line}\n`;
    else if (ch.status === 'planned') out += `${c.cyan('would fix')} ${line}\n`;
    else if (ch.status === 'skipped') out += `${c.yellow('skipped')} ${line} (${ch.reason ?? ''})\n`;
    else if (ch.status === 'failed') out += `${c.red('failed')} ${line} (${ch.reason ?? ''})\n`;
    else if (ch.status === 'removed') out += `${c.green('removed')} ${name(ch.path)} (${ch.reason ?? ''})\n`;
  }
  out += moreChangesLine(changes.length - cap, st.ctx);
  if (out && !onlyChanges) out += '\n';
  return out;
}

/** An interrupted --fix: what it changed before it stopped, with the same cap (the journal has them all). */
export function interruptedChanges(changes: readonly AppliedChange[], ctx: ReportContext): string {
  return changeLines(changes, true, styleOf(ctx));
}

const plural = (n: number, one: string, many = one + 's'): string => `${n} ${n === 1 ? one : many}`;

/** `✖ 4 of 9 links have problems (30 entries): 11 findings (6 errors, 5 warnings); 4 fixable with --fix` */
function summaryLine(s: Summary, ctx: ReportContext, c: Colors): string {
  const f = s.findings;
  const total = f.error + f.warning + f.info;
  const unread =
    (s.unreadable > 0 ? `, ${s.unreadable} unreadable` : '') +
    (s.suppressed ? `, ${s.suppressed} suppressed by allow entries` : '') +
    (s.stale ? `, ${plural(s.stale, 'stale allow entry', 'stale allow entries')}` : '');
  if (total === 0) return c.green(`✔ ${plural(s.links, 'link')} in ${plural(s.entries, 'entry', 'entries')}: no problems${unread}`);
  const counts = [plural(f.error, 'error'), plural(f.warning, 'warning'), `${f.info} info`].filter((x) => !x.startsWith('0 '));
  const fixable = s.fixable > 0 && ctx.mode === 'audit' ? `; ${s.fixable} fixable with --fix` : '';
  const mark = f.error > 0 ? c.red('✖') : c.yellow('!');
  const links = `${s.problems} of ${plural(s.links, 'link')} ${s.problems === 1 ? 'has' : 'have'} problems`;
  return `${mark} ${links} (${plural(s.entries, 'entry', 'entries')}${unread}): ${plural(total, 'finding')} (${counts.join(', ')})${fixable}`;
}
