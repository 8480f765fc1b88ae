import type { AuditEvent, AuditResult, Summary } from '../audit/records.js';
import { auditSink, type TextWriter } from './sink.js';
import { withMessages } from '../rules/messages.js';
import { Auditor, batches } from '../audit/auditor.js';
import { fixPlanner } from '../fix/planner.js';
import { applyFixes } from '../fix/apply.js';
import { type AppliedChange, plannedChanges } from '../fix/applied-change.js';
import type { Journal, RunInfo } from '../fix/journal.js';
import { AuditThread } from './threads.js';
import type { Reporter, ReportContext } from '../report/reporter.js';
import { eventAsText, resultAsText } from '../report/as-text.js';
import type { DirEntry } from '../core/fs-port.js';
import type { AuditOptions, Settings } from '../config/settings.js';
import { replaySource, type Source, walkSource } from '../walk/source.js';
import type { ThreadRun, Walked, WorkerResult } from './worker-protocol.js';


/**
 * One jail's run, the way every caller takes: source (a walk, or the replay of one) -> judge and
 * fix planner -> applier (--fix) -> report sink. With --fix the tree is walked once: the report
 * after the fix replays the planning walk's links, each read again (the fixer changes link
 * texts only). The judge and the report run on this thread, or on a second one (`threads`).
 */
export interface PipelineRun {
  settings: Settings;
  mode: ReportContext['mode'];
  /** Where the report goes on this thread: a reporter and its writer. */
  report: { reporter: Reporter; writer: TextWriter };
  /**
   * Run the judge and the report on a second thread, which rebuilds the settings from `options`
   * and the reporter from `format` and `ctx`, and writes to `fd` (null: one thread).
   */
  threads?: ThreadRun | null;
  /** --fix: the journal file (or one a command over many jails shares), and the run its lines name. */
  journal?: string | Journal | undefined;
  run?: RunInfo | undefined;
  /** Hears how to count the links judged so far (for a progress line), once per pass. */
  onJudged?: ((judged: () => number) => void) | undefined;
  /** Called around the applier (a progress line pauses while links change). */
  onApply?: { before(): void; after(): void } | undefined;
}

export interface PipelineResult {
  summary: Summary;
  /** What --fix did (or, with --dry-run, would do). */
  changes: AppliedChange[];
}

/** Runs the stages; an interrupted fix throws Interrupted (see fix/apply.ts) and writes no report. */
export async function runPipeline(run: PipelineRun): Promise<PipelineResult> {
  // One audit thread for both passes of --fix (see parallel.ts).
  const thread = run.threads ? new AuditThread(run.settings, run.threads) : null;
  try {
    let changes: AppliedChange[] = [];
    let source: (prime?: Auditor) => Source = (prime) => walkSource(run.settings, { onListing: primer(prime) });
    let size: number | undefined;
    if (run.mode === 'fix') {
      const walked: Walked = { entries: [], counts: { entries: 0, directories: 0 } };
      const plan = await pass(run, thread, (prime) => walkSource(run.settings, { keep: walked, onListing: primer(prime) }), { report: false, collectFixes: true, dryRun: false, changes });
      run.onApply?.before();
      changes = await applyFixes(run.settings, plan.fixes, { journal: run.journal, run: run.run, leftovers: plan.leftovers });
      source = () => replaySource(run.settings, walked);
      size = walked.entries.length;
    }
    run.onApply?.after();
    const dryRun = run.mode === 'dry-run';
    const { summary, fixes } = await pass(run, thread, source, { report: true, collectFixes: dryRun, dryRun, changes }, size);
    if (dryRun) changes = plannedChanges(fixes);
    return { summary, changes };
  } finally {
    await thread?.close();
  }
}

/** How the walk lets the judge's resolver learn from directory listings (on this thread only). */
function primer(auditor: Auditor | undefined): ((dir: string, entries: readonly DirEntry[]) => void) | undefined {
  return auditor ? (dir, entries) => auditor.resolver.primeDir(dir, entries) : undefined;
}

/** One pass of the source through the judge (and planner) into the report sink. */
async function pass(
  run: PipelineRun,
  thread: AuditThread | null,
  source: (prime?: Auditor) => Source,
  job: { report: boolean; collectFixes: boolean; dryRun: boolean; changes: readonly AppliedChange[] },
  size?: number,
): Promise<WorkerResult> {
  if (thread) return thread.pass({ report: job.report, collectFixes: job.collectFixes, changes: job.changes }, source(), run.onJudged, size);
  const auditor = new Auditor(run.settings, fixPlanner(job.collectFixes));
  const sink = auditSink(auditor, run.report.reporter, job, run.report.writer);
  run.onJudged?.(sink.judged);
  const s = source(auditor);
  if (auditor.batched) for (const b of batches(s.entries())) sink.feed(b);
  else for (const e of s.entries()) sink.feed([e]);
  return sink.end(s.counts);
}

/** Audits the given paths and returns everything found, synchronously; paths as ordinary strings (see report/as-text.ts). */
export function auditSync(options: AuditOptions): AuditResult {
  const a = new Auditor(options, fixPlanner());
  try {
    return resultWithMessages(a.collect());
  } finally {
    a.close();
  }
}

/** The audit as a stream of events, for huge trees: memory stays flat. */
export async function* auditStream(options: AuditOptions): AsyncGenerator<AuditEvent, Summary> {
  const a = new Auditor(options, fixPlanner());
  try {
    for (const ev of a.events()) yield eventWithMessages(ev);
    return a.summary;
  } finally {
    a.close();
  }
}

/** An event as a library caller gets it: a link's findings with their words (others have them), paths as text. */
function eventWithMessages(ev: AuditEvent): AuditEvent {
  return eventAsText(ev.type === 'link' ? { type: 'link', link: withMessages(ev.link) } : ev);
}

/** A collected audit as a library caller gets it: every finding with its words, paths as text. */
function resultWithMessages(result: AuditResult): AuditResult {
  return resultAsText({ ...result, links: result.links.map((l) => withMessages(l)) });
}
