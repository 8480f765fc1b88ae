import { createColors } from 'picocolors';
import type { Finding, LinkRecord, Summary } from '../audit.js';
import { toDisplay } from '../bytes.js';
import type { AppliedChange } from '../fix/change.js';
import type { Resolution } from '../resolve.js';
import { failure } from '../rules/words.js';
import { compactFinding, mustAct, splitConcurrent } from './cron-lines.js';
import type { Reporter, ReportContext } from './reporter.js';

/**
 * For people: each problem link as `path -> text`, what each rule says, how the jail and the host
 * resolve it, and the fix --fix would apply; then one summary line. Every name is escaped
 * (toDisplay), so a newline or escape sequence in a name cannot fake a line or recolour the terminal.
 */
export function prettyReporter(ctx: ReportContext): Reporter {
  const c = createColors(ctx.color);
  const sev = { error: c.red('error'), warning: c.yellow('warning'), info: c.blue('info') };
  const pad = (s: string, n: number): string => s + ' '.repeat(Math.max(0, n - s.length));
  const viewLine = (name: string, r: Resolution): string =>
    r.status === 'ok' ? `${name}: ${c.green('ok')} ${toDisplay(r.resolved!)}` : `${name}: ${c.red(r.status)}, ${failure(r)}`;
  const unreadable: string[] = [];
  // --quiet with --fix or --dry-run: only the changes (or the plan) are printed, for cron mail.
  const onlyChanges = ctx.quiet && ctx.mode !== 'audit';
  // --fix --quiet (cron): besides the changes, what is still wrong, a compact line each.
  const cron = onlyChanges && ctx.mode === 'fix';
  let remaining = '';
  const remember = (path: string, f: Finding): void => {
    if (cron && mustAct(f, ctx.failOn)) remaining += compactFinding(path, f);
  };

  const link = (rec: LinkRecord): string => {
    for (const f of rec.findings) remember(rec.path, f);
    if (rec.findings.length === 0 || onlyChanges) return '';
    let out = `${c.bold(toDisplay(rec.path))} -> ${toDisplay(rec.target)}\n`;
    for (const f of rec.findings) {
      out += `  ${sev[f.severity]}${' '.repeat(8 - f.severity.length)}${pad(f.rule, 14)} ${f.message} ${c.dim(f.code)}\n`;
    }
    out += `  ${c.dim(viewLine('jail', rec.chroot))}\n  ${c.dim(viewLine('host', rec.host))}\n`;
    if (rec.fix && ctx.mode !== 'fix') out += `  ${c.cyan('would fix')}: ${toDisplay(rec.fix.target)} ${c.dim('(' + rec.fix.why + ')')}\n`;
    else if (rec.noFix) out += `  ${c.dim('no fix: ' + rec.noFix)}\n`;
    return out + '\n';
  };

  return {
    begin() {
      return '';
    },
    event(ev) {
      if (ev.type === 'unreadable') {
        remember(ev.entry.path, ev.entry.finding);
        unreadable.push(`${c.bold(toDisplay(ev.entry.path))}\n  ${sev[ev.entry.finding.severity]} unreadable     ${ev.entry.finding.message} ${c.dim(ev.entry.finding.code)}\n\n`);
        return '';
      }
      return link(ev.link);
    },
    end(summary, changes) {
      let out = onlyChanges ? '' : unreadable.join('');
      if (cron) {
        const { shown, line } = splitConcurrent(changes);
        out += changeLines(shown, true, c) + remaining + line;
        return remaining ? out + summaryLine(summary, ctx, c) + '\n' : out;
      }
      out += changeLines(changes, onlyChanges, c);
      const problems = summary.findings.error + summary.findings.warning + summary.findings.info;
      if (onlyChanges || (ctx.quiet && problems === 0)) return out;
      return out + summaryLine(summary, ctx, c) + '\n';
    },
  };
}

function changeLines(changes: readonly AppliedChange[], onlyChanges: boolean, c: ReturnType<typeof createColors>): string {
  let out = '';
  for (const ch of changes) {
    const line = `${toDisplay(ch.path)}: ${toDisplay(ch.old)} -> ${toDisplay(ch.new)}`;
    if (ch.status === 'changed') out += `${c.green('fixed')} ${line}\n`;
    else if (ch.status === 'planned') out += `${c.cyan('would fix')} ${line}\n`;
    else if (ch.status === 'skipped') out += `${c.yellow('skipped')} ${line} (${ch.reason ?? ''})\n`;
    else if (ch.status === 'failed') out += `${c.red('failed')} ${line} (${ch.reason ?? ''})\n`;
    else if (ch.status === 'removed') out += `${c.green('removed')} ${toDisplay(ch.path)} (${ch.reason ?? ''})\n`;
  }
  if (out && !onlyChanges) out += '\n';
  return out;
}

function summaryLine(s: Summary, ctx: ReportContext, c: ReturnType<typeof createColors>): string {
  const f = s.findings;
  const total = f.error + f.warning + f.info;
  const scope = `${s.links} link${s.links === 1 ? '' : 's'} in ${s.entries} entries`;
  const unread = s.unreadable > 0 ? `, ${s.unreadable} unreadable` : '';
  if (total === 0) return c.green(`✔ ${scope}: no problems${unread}`);
  const fixable = s.fixable > 0 && ctx.mode === 'audit' ? `; ${s.fixable} fixable with --fix` : '';
  const mark = f.error > 0 ? c.red('✖') : c.yellow('!');
  return `${mark} ${total} problem${total === 1 ? '' : 's'} (${f.error} error${f.error === 1 ? '' : 's'}, ${f.warning} warning${f.warning === 1 ? '' : 's'}, ${f.info} info) in ${scope}${unread}${fixable}`;
}
