import { ChangeCheck } from './changed.js';
import { isAbsolute, textClimbsAbove } from './paths.js';
import type { LinkToPlan, PlanOutcome, PlannedFix } from './planned-fix.js';
import { hostFromJail, Resolver, type Resolution, type Status, type View } from './resolve.js';
import { type LinkFacts, type Rule, type Severity, rules } from './rules/index.js';
import type { Finding, TextFinding } from './rules/types.js';
import { describeChanged, describeUnreadable, unreadable as unreadableRule } from './rules/unreadable.js';
import { type AuditOptions, type Settings, settingsFrom } from './settings.js';
import { walkSource, type WalkedEntry } from './source.js';
import type { WalkCounts } from './walk.js';
import { type CheckRecord, Judge } from './judge.js';
import { PolicyJudge, type Policy, type StaleAllow, type SuppressedFinding } from './policy.js';

export type { Finding };

/** One symlink, as both views see it, with what the rules say and what --fix would do. */
export interface LinkRecord {
  /** Host path of the link (byte string). */
  path: string;
  /** The link text exactly as readlink(2) returns it (byte string). */
  target: string;
  /** The link's own path inside the root. */
  inside: string;
  /**
   * The jail view, under the name the JSON report gives it: this record is the report's shape,
   * written out per link without a copy (the code's word for the view is `jail`).
   */
  chroot: Resolution;
  host: Resolution;
  findings: Finding[];
  fix: PlannedFix | null;
  /** Why a link with findings has no fix. */
  noFix: string | null;
  /** Findings an allow entry set aside, with its reason (present only when there are some). */
  suppressed?: SuppressedFinding[];
}

/** A directory (or link) the walk could not read. */
export interface UnreadableRecord {
  path: string;
  errno: string;
  /** Its words settled here: unreadable entries are few, and their message names the errno. */
  finding: TextFinding;
}

export type AuditEvent = { type: 'link'; link: LinkRecord } | { type: 'unreadable'; entry: UnreadableRecord };

export type { CheckRecord, StaleAllow, SuppressedFinding };

type StatusCounts = Record<Status, number>;

export interface Summary {
  links: number;
  entries: number;
  directories: number;
  unreadable: number;
  /** Statuses in the jail view (the JSON name of the view). */
  chroot: StatusCounts;
  host: StatusCounts;
  findings: Record<Severity, number>;
  rules: Record<string, number>;
  /** Links with at least one finding. */
  problems: number;
  /** Links --fix would rewrite. */
  fixable: number;
  /** Findings set aside by allow entries (present when the run has an allow list). */
  suppressed?: number;
  /** Allow entries that matched nothing (present when the run has an allow list). */
  stale?: number;
}

export interface AuditResult {
  schemaVersion: 1;
  root: string;
  scanned: string[];
  links: LinkRecord[];
  unreadable: UnreadableRecord[];
  /** Failed --require / preset checks on paths that are not links (present when there are some). */
  checks?: CheckRecord[];
  /** Allow entries that matched nothing (present when the run has an allow list). */
  stale?: StaleAllow[];
  summary: Summary;
}

const zeroStatus = (): StatusCounts => ({ ok: 0, dangling: 0, loop: 0, notdir: 0, denied: 0, error: 0 });

export function emptySummary(policy?: Policy): Summary {
  const s: Summary = {
    links: 0,
    entries: 0,
    directories: 0,
    unreadable: 0,
    chroot: zeroStatus(),
    host: zeroStatus(),
    findings: { error: 0, warning: 0, info: 0 },
    rules: Object.fromEntries((policy ? PolicyJudge.countedRules(policy) : rules.filter((r) => !('enabledBy' in r)).map((r) => r.id)).map((id) => [id, 0])),
    problems: 0,
    fixable: 0,
  };
  // Added only with an allow list: a report without one stays exactly as it was.
  if (policy && policy.allow.length > 0) Object.assign(s, { suppressed: 0, stale: 0 });
  return s;
}

/**
 * What the judge asks of a fix planner (fix/planner.ts), so that judging never depends on how
 * fixes are planned. Without one, links are judged and nothing is planned.
 */
export interface FixPlanning {
  /** The walk met the link `path` (named `name`): its verdict when it was reached ahead of the walk. */
  met(path: string, name: string): LinkRecord | undefined;
  /** The walk is done with `path`. */
  reached(path: string): void;
  /** The verdict on `path` went stale: its fix is no longer planned. */
  drop(path: string, fix: PlannedFix | null): void;
  /** A plan for a link the rules want fixed (null: none is tried). */
  plan(link: LinkToPlan, facts: LinkFacts): PlanOutcome | null;
}

/**
 * One audit run: walks the scanned paths, resolves every link in both views and applies the
 * rules, yielding one event per link in path order; a planner, when given, plans fixes as the
 * links are judged. Memory stays flat: a record is handed out and forgotten.
 */
export class LinkJudge {
  readonly settings: Settings;
  readonly resolver: Resolver;
  readonly jail: View;
  readonly host: View = { rootHost: '' };
  readonly summary: Summary;
  /** Presets, --require, rule levels and allow entries. */
  readonly judge: Judge;
  protected readonly planner: FixPlanning | null;
  /** Whether a verdict still holds for the tree as it is now (changed.ts). */
  private readonly check: ChangeCheck;

  constructor(settingsOrOptions: Settings | AuditOptions, planner?: (judge: LinkJudge) => FixPlanning) {
    this.settings = 'rootHost' in settingsOrOptions ? settingsOrOptions : settingsFrom(settingsOrOptions);
    this.jail = { rootHost: this.settings.rootHost };
    const check = (this.check = new ChangeCheck(this.settings.fs, this.jail, this.host));
    this.resolver = new Resolver(this.settings.fs, { onRead: (path, answer) => check.heard(path, answer) });
    this.summary = emptySummary(this.settings.policy);
    this.judge = new Judge(this.settings);
    this.planner = planner ? planner(this) : null;
  }

  /** A walk of the scanned paths (source.ts), judged: one event per link or unreadable entry. */
  *events(): Generator<AuditEvent> {
    const source = walkSource(this.settings, { onListing: (dir, entries) => this.resolver.primeDir(dir, entries) });
    for (const e of source.entries()) yield this.entry(e);
    this.finish(source.counts);
  }

  /** One entry of the source, judged. */
  private entry(e: WalkedEntry): AuditEvent {
    this.check.openWindow(false);
    return this.judgeEntry(e);
  }

  /**
   * Entries whose link texts were all read before this call (a batch from the walking thread),
   * judged in order: disk reads made while judging any of them count for all (see changed.ts).
   */
  batch(entries: readonly WalkedEntry[], each: (ev: AuditEvent) => void): void {
    this.check.openWindow(entries.length > 1);
    for (const e of entries) each(this.judgeEntry(e));
  }

  private judgeEntry(e: WalkedEntry): AuditEvent {
    if (e[4] === undefined) return this.judgeLink(e[0], e[1], e[2], e[3]);
    return { type: 'unreadable', entry: this.unreadable(e[2], e[3], e[4] === 'd' ? 'directory' : 'link') };
  }

  /**
   * --require and preset checks on paths the walk did not meet as links (current missing, a
   * required directory): asked once the events are taken. Counted in the summary.
   */
  closing(): CheckRecord[] {
    const out = this.judge.closing(this.resolver, this.jail).map((check) => {
      for (const f of check.findings) {
        this.summary.findings[f.severity]++;
        this.summary.rules[f.rule] = (this.summary.rules[f.rule] ?? 0) + 1;
      }
      if (this.summary.suppressed !== undefined) this.summary.suppressed += check.suppressed.length;
      return check;
    });
    if (this.summary.stale !== undefined) this.summary.stale = this.judge.stale().length;
    return out;
  }

  /** Allow entries that matched nothing: complete once every event has been taken. */
  stale(): StaleAllow[] | undefined {
    return this.settings.policy.allow.length > 0 ? this.judge.stale() : undefined;
  }

  /**
   * One link the walk met (its text already read): the step `events` takes per link, public so
   * a walk done elsewhere (another thread) can feed the auditor.
   */
  link(dir: string, name: string, path: string, text: string): AuditEvent {
    this.check.openWindow(false);
    return this.judgeLink(dir, name, path, text);
  }

  private judgeLink(dir: string, name: string, path: string, text: string): AuditEvent {
    const early = this.planner?.met(path, name);
    const rec = early?.target === text ? early : this.evaluate(dir, path, text);
    this.planner?.reached(path);
    this.judge.reported(path);
    const changed = this.check.changedSince({ dir, name, text: rec.target, jail: rec.chroot, host: rec.host });
    if (changed !== null) {
      // What was learnt is stale somewhere: later links are judged on fresh reads.
      this.resolver.clear();
      this.planner?.drop(path, rec.fix);
      return { type: 'unreadable', entry: this.unreadable(path, 'EAGAIN', 'link', changed) };
    }
    this.count(rec);
    return { type: 'link', link: rec };
  }

  /** Records the walk's totals in the summary. */
  finish(counts: WalkCounts): void {
    this.summary.entries = counts.entries;
    this.summary.directories = counts.directories;
  }

  /** Facts, findings and plan for the link at `path` whose text is `text`. */
  evaluate(dir: string, path: string, text: string): LinkRecord {
    const rootHost = this.settings.rootHost;
    const name = path.slice(path.lastIndexOf('/') + 1);
    this.resolver.prime(dir, name, text);
    const inside = path.slice(rootHost.length);
    const insideDir = dir.slice(rootHost.length) || '/';
    const climbs = !isAbsolute(text) && textClimbsAbove(depthOf(insideDir), text);
    const jail = this.resolver.resolveLink(this.jail, dir, name, text);
    // Without --root the jail is the host: one walk answers both.
    const host =
      (rootHost === '' ? jail : hostFromJail(jail, rootHost, path, climbs)) ?? this.resolver.resolveLink(this.host, dir, name, text);
    const facts: LinkFacts = { path, text, inside, insideDir, climbs, root: this.settings.root, jail, host };
    const raw: Finding[] = [];
    for (const r of rules as readonly Rule[]) {
      const hit = r.check(facts);
      if (hit) raw.push({ rule: r.id, code: r.code, severity: hit.severity ?? r.severity, args: hit.args });
    }
    const { findings, suppressed, wantsFix } = this.judge.judge(facts, raw);
    const outcome = wantsFix && this.planner ? this.planner.plan({ path, dir, name, text, insideDir, inside }, facts) : null;
    const rec: LinkRecord = {
      path,
      target: text,
      inside,
      chroot: jail,
      host,
      findings,
      fix: outcome?.fix ?? null,
      noFix: outcome && !outcome.fix ? outcome.reason : null,
    };
    if (suppressed.length > 0) rec.suppressed = suppressed;
    return rec;
  }

  /** `changed`: the link changed during the scan (errno EAGAIN, as openat2 says for a racing rename), and how. */
  unreadable(path: string, errno: string, what: 'directory' | 'link', changed?: string): UnreadableRecord {
    // Its level may be raised or lowered, never off nor allowed (see policy.ts): it cannot vanish.
    const message = changed === undefined ? describeUnreadable(path, errno, what) : describeChanged(path, changed);
    const finding = this.judge.policy.level<TextFinding>({ rule: unreadableRule.id, code: unreadableRule.code, severity: unreadableRule.severity as Severity, message })!;
    this.summary.unreadable++;
    this.summary.findings[finding.severity]++;
    this.summary.rules[unreadableRule.id] = (this.summary.rules[unreadableRule.id] ?? 0) + 1;
    return { path, errno, finding };
  }

  private count(rec: LinkRecord): void {
    const s = this.summary;
    s.links++;
    s.chroot[rec.chroot.status]++;
    s.host[rec.host.status]++;
    if (rec.findings.length > 0) s.problems++;
    for (const f of rec.findings) {
      s.findings[f.severity]++;
      s.rules[f.rule] = (s.rules[f.rule] ?? 0) + 1;
    }
    if (rec.fix) s.fixable++;
    if (rec.suppressed && s.suppressed !== undefined) s.suppressed += rec.suppressed.length;
  }

  /** Everything, collected: for callers that want one value (small trees, tests, the JSON API). */
  collect(): AuditResult {
    const links: LinkRecord[] = [];
    const unreadableEntries: UnreadableRecord[] = [];
    for (const ev of this.events()) {
      if (ev.type === 'link') links.push(ev.link);
      else unreadableEntries.push(ev.entry);
    }
    const checks = this.closing();
    const result: AuditResult = {
      schemaVersion: 1,
      root: this.settings.root,
      scanned: [...this.settings.scanned],
      links,
      unreadable: unreadableEntries,
      summary: this.summary,
    };
    if (checks.length > 0) result.checks = checks;
    const stale = this.stale();
    if (stale) result.stale = stale;
    return result;
  }
}

/** How many directories below the root a '/'-based path inside it is ('/' is 0). */
function depthOf(insideDir: string): number {
  if (insideDir === '/') return 0;
  let n = 0;
  for (let i = 0; i < insideDir.length; i++) if (insideDir.charCodeAt(i) === 47) n++;
  return n;
}
