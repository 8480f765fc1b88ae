import * as nodeFs from 'node:fs';
import { toNative } from '../core/bytes.js';
import { errnoOf } from '../core/errors.js';
import { ChangeCheck } from './change-check.js';
import { isAbsolute, SLASH, textClimbsAbove } from '../core/paths.js';
import type { AuditorForPlanner, FixPlanning } from './fix-planning.js';
import type { AuditEvent, AuditResult, CheckRecord, LinkRecord, PlannedFix, StaleAllow, Summary, UnreadableRecord } from './records.js';
import { countFinding, countLink, emptySummary } from './summary.js';
import { hostFromJail, Resolver, type View } from '../resolve/resolver.js';
import { type LinkFacts, type Rule, type Severity, rules } from '../rules/registry.js';
import type { Finding, TextFinding } from '../rules/types.js';
import { describeChanged, describeUnreadable, unreadable as unreadableRule } from '../rules/unreadable.js';
import { type AuditOptions, type Settings, settingsFrom } from '../config/settings.js';
import { walkSource, type WalkedEntry } from '../walk/source.js';
import type { WalkCounts } from '../walk/walk.js';
import { Judge } from './judge.js';
import { ReaderFacts } from './reader-facts.js';
import { ReaderGate } from '../resolve/reader.js';
import { CompiledPolicy } from '../config/policy.js';
import { ownerMismatch } from '../rules/owner-mismatch.js';


/**
 * One audit run: walks the scanned paths, resolves every link in both views and applies the
 * rules, yielding one event per link in path order; a planner, when given, plans fixes as the
 * links are judged. Memory stays flat: a record is handed out and forgotten.
 */
export class Auditor implements AuditorForPlanner {
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
  /** --as-user: the reader's process, asked by the resolver. */
  private readonly gate: ReaderGate | null;
  private readonly readerFacts: ReaderFacts;
  /** owner-mismatch is on: owners are read for each link. */
  private readonly owners: boolean;

  constructor(settingsOrOptions: Settings | AuditOptions, planner?: (auditor: Auditor) => FixPlanning) {
    this.settings = 'rootHost' in settingsOrOptions ? settingsOrOptions : settingsFrom(settingsOrOptions);
    this.jail = { rootHost: this.settings.rootHost };
    const check = (this.check = new ChangeCheck(this.settings.fs, this.jail, this.host));
    const { reader, fs, root, policy } = this.settings;
    this.gate = reader === null ? null : new ReaderGate(reader, this.settings.rootHost, fs);
    const onRead = (path: string, answer: string): void => check.heard(path, answer);
    // A caller that is not root meets permissions too, where the walk looks nothing up as well.
    const selfSearch = reader === null && fs.real && process.getuid?.() !== 0 ? searchAsSelf : undefined;
    this.resolver = new Resolver(fs, { onRead, gate: this.gate ?? undefined, selfSearch });
    this.readerFacts = new ReaderFacts(fs, root, this.resolver, reader === null ? null : { who: reader, gate: this.gate! });
    this.owners = CompiledPolicy.enabled(ownerMismatch, policy, reader !== null);
    this.summary = emptySummary(policy, reader !== null);
    this.judge = new Judge(this.settings);
    this.planner = planner ? planner(this) : null;
  }

  /** A walk of the scanned paths (source.ts), judged: one event per link or unreadable entry. */
  *events(): Generator<AuditEvent> {
    const source = walkSource(this.settings, { onListing: (dir, entries) => this.resolver.primeDir(dir, entries) });
    if (this.batched) {
      for (const b of batches(source.entries())) {
        const out: AuditEvent[] = [];
        this.batch(b, (ev) => out.push(ev));
        yield* out;
      }
    } else for (const e of source.entries()) yield this.entry(e);
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
    // The reader's answers for every directory these links' walks search, in one round trip.
    if (this.gate !== null && entries.length > 1) this.gate.prefetch(() => this.resolver.as(this.gate!, () => this.walksOf(entries)));
    for (const e of entries) each(this.judgeEntry(e));
  }

  /** The walks of each link in both views, for the reader's gate to note (nothing is kept). */
  private walksOf(entries: readonly WalkedEntry[]): void {
    const rootHost = this.settings.rootHost;
    for (const [dir, name, path, text, unread] of entries) {
      if (unread !== undefined) continue;
      this.resolver.prime(dir, name, text);
      const jail = this.resolver.resolveLink(this.jail, dir, name, text);
      // readerOf asks about the directory a link leads to as well.
      this.readerFacts.readerOf(jail);
      // The host view is walked where the jail's does not answer for it (see factsOf).
      if (rootHost === '') continue;
      const climbs = !isAbsolute(text) && textClimbsAbove(depthOf(dir.slice(rootHost.length) || '/'), text);
      if (!this.gate!.rootReachable() || hostFromJail(jail, rootHost, path, climbs) === null) this.resolver.resolveLink(this.host, dir, name, text);
    }
  }

  /** Whether entries are best judged in batches (--as-user: the reader is asked a batch at a time). */
  get batched(): boolean {
    return this.gate !== null;
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
      for (const f of check.findings) countFinding(this.summary, f.rule, f.severity);
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
    countLink(this.summary, rec);
    return { type: 'link', link: rec };
  }

  /** Records the walk's totals in the summary. */
  finish(counts: WalkCounts): void {
    this.summary.entries = counts.entries;
    this.summary.directories = counts.directories;
  }

  /** Facts, findings and plan for the link at `path` whose text is `text`. */
  evaluate(dir: string, path: string, text: string): LinkRecord {
    const gate = this.gate ?? undefined;
    const facts = this.resolver.as(gate, () => this.factsOf(dir, path, text, gate !== undefined));
    const { findings, suppressed, wantsFix } = this.judge.judge(facts, this.ruleFindings(facts));
    // --as-user judges; the plan is the caller's. A walk the reader was refused is walked again
    // without the reader, so a link text is fixed whoever can read it (a walk it was not refused
    // is the same walk either way).
    const refused = gate !== undefined && (facts.jail.status === 'denied' || facts.host.status === 'denied');
    const plan = refused ? this.resolver.as(undefined, () => this.planFacts(dir, path, text)) : { facts, wantsFix };
    const { inside, insideDir } = facts;
    const name = path.slice(path.lastIndexOf('/') + 1);
    const link = { path, dir, name, text, insideDir, inside };
    const outcome = plan.wantsFix && this.planner ? this.resolver.as(undefined, () => this.planner!.plan(link, plan.facts)) : null;
    const rec: LinkRecord = {
      path,
      target: text,
      inside,
      chroot: facts.jail,
      host: facts.host,
      findings,
      fix: outcome?.fix ?? null,
      noFix: outcome && !outcome.fix ? outcome.reason : outcome === null ? notTheText(findings) : null,
    };
    if (suppressed.length > 0) rec.suppressed = suppressed;
    const layer = this.settings.image?.layerOf?.(inside);
    if (layer !== undefined) rec.layer = { index: layer, digest: this.settings.image!.layers[layer]?.digest ?? null };
    return rec;
  }

  /** What the rules need to know about one link; `asReader`: resolved as --as-user's reader. */
  private factsOf(dir: string, path: string, text: string, asReader: boolean): LinkFacts {
    const resolver = this.resolver;
    const rootHost = this.settings.rootHost;
    const name = path.slice(path.lastIndexOf('/') + 1);
    resolver.prime(dir, name, text);
    const inside = path.slice(rootHost.length);
    const insideDir = dir.slice(rootHost.length) || '/';
    const climbs = !isAbsolute(text) && textClimbsAbove(depthOf(insideDir), text);
    const jail = resolver.resolveLink(this.jail, dir, name, text);
    const gated = asReader;
    // Without --root the jail is the host: one walk answers both. A reader reaches the link on the
    // host through the directories above the jail too: the jail's walk answers for the host's only
    // when it can pass them.
    const shortcut = !gated || this.gate!.rootReachable();
    const host = (rootHost === '' ? jail : shortcut ? hostFromJail(jail, rootHost, path, climbs) : null) ?? resolver.resolveLink(this.host, dir, name, text);
    const facts: LinkFacts = { path, text, inside, insideDir, climbs, root: this.settings.root, jail, host, preset: this.settings.policy.preset };
    if (this.settings.image) facts.image = true;
    if (gated) facts.reader = this.readerFacts.readerOf(jail);
    if (this.owners && (asReader || this.gate === null)) facts.owners = this.readerFacts.ownersOf(path, jail);
    return facts;
  }

  /** Every rule's finding on one link, at the rule's own severity. */
  private ruleFindings(facts: LinkFacts): Finding[] {
    const raw: Finding[] = [];
    for (const r of rules as readonly Rule[]) {
      const hit = r.check?.(facts);
      if (hit) raw.push({ rule: r.id, code: r.code, severity: hit.severity ?? r.severity, args: hit.args });
    }
    return raw;
  }

  /** The facts a fix is planned from, the caller's, and whether they ask for one. */
  private planFacts(dir: string, path: string, text: string): { facts: LinkFacts; wantsFix: boolean } {
    const facts = this.factsOf(dir, path, text, false);
    return { facts, wantsFix: this.judge.judge(facts, this.ruleFindings(facts), false).wantsFix };
  }

  /** `changed`: the link changed during the scan (errno EAGAIN, as openat2 says for a racing rename), and how. */
  unreadable(path: string, errno: string, what: 'directory' | 'link', changed?: string): UnreadableRecord {
    // Its level may be raised or lowered, never off nor allowed (see policy.ts): it cannot vanish.
    const message = changed === undefined ? describeUnreadable(path, errno, what) : describeChanged(path, changed);
    const finding = this.judge.policy.level<TextFinding>({ rule: unreadableRule.id, code: unreadableRule.code, severity: unreadableRule.severity as Severity, message })!;
    this.summary.unreadable++;
    countFinding(this.summary, unreadableRule.id, finding.severity);
    return { path, errno, finding };
  }

  /** Ends what the audit started beside it (the reader's process of --as-user). */
  close(): void {
    this.gate?.close();
  }

  /** Planned fixes in an order where every fix comes after those it relies on (none without a planner, or uncollected). */
  get fixes(): PlannedFix[] {
    return this.planner?.fixes ?? [];
  }

  /** Temporary links of a fixer run (ours or an interrupted one's) met by the walk. */
  get leftovers(): string[] {
    return this.planner?.leftovers ?? [];
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
  for (let i = 0; i < insideDir.length; i++) if (insideDir.charCodeAt(i) === SLASH) n++;
  return n;
}

/** Entries in batches of the audit thread's size (see run/threads.ts). */
export function* batches<T>(entries: Iterable<T>, size = 512): Generator<T[]> {
  let b: T[] = [];
  for (const e of entries) {
    b.push(e);
    if (b.length === size) {
      yield b;
      b = [];
    }
  }
  if (b.length > 0) yield b;
}

/** Why a link whose findings are about permissions or owners gets no fix: those are not its text. */
function notTheText(findings: readonly Finding[]): string | null {
  for (const f of findings) {
    if (f.rule === 'no-access') return 'a permission, not the link text: --fix changes no modes or owners';
    if (f.rule === 'owner-mismatch') return 'an owner, not the link text: --fix changes no owners';
  }
  return null;
}

/** access(2) with X_OK as this process: whether it may search the directory (null), or why not. */
function searchAsSelf(hostDir: string): string | null {
  try {
    nodeFs.accessSync(toNative(hostDir || '/'), nodeFs.constants.X_OK);
    return null;
  } catch (err) {
    return errnoOf(err);
  }
}
