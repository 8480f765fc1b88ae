import type { Summary } from './audit.js';
import type { AppliedChange } from './fix/change.js';
import type { PlannedFix } from './fix/plan.js';
import type { Format } from './report/formats.js';
import type { ReportContext } from './report/reporter.js';
import type { AuditOptions } from './settings.js';
import type { WalkedEntry } from './source.js';
import type { WalkCounts } from './walk.js';

/**
 * What crosses between the walking thread and the audit thread (see parallel.ts and
 * audit-worker.ts): plain data only, so both ends depend on this module and not on each other.
 */

/** What the audit thread needs to rebuild the run. */
export interface WorkerInput {
  options: Omit<AuditOptions, 'fs'>;
  format: Format;
  ctx: ReportContext;
  fd: number;
  /** Write the report (false: only plan, for --fix). */
  report: boolean;
  /** Keep the plan's fixes and send them back (for --fix). */
  collectFixes: boolean;
  /** What --fix did, for the report's end. */
  changes: AppliedChange[];
  /** The shared counters (see SENT, DONE, FAILED), for backpressure and failure. */
  progress: SharedArrayBuffer;
  /** The terminal lock of a progress line on the same terminal (see progress.ts), when one is drawn. */
  terminal?: SharedArrayBuffer | undefined;
}

/** What the audit thread answers at the end. */
export interface WorkerResult {
  summary: Summary;
  fixes: PlannedFix[];
  leftovers: string[];
}

export type { Walked, WalkedEntry } from './source.js';

/** Walking thread -> audit thread: a batch of entries, or the walk's end with its totals. */
export type ToWorker = WalkedEntry[] | { end: WalkCounts };

/** Audit thread -> walking thread: the result, or why it failed (`output`: the errno of a report that could not be written). */
export type FromWorker = WorkerResult | { error: string; output?: string };

/** Bytes of the shared counters. */
export const COUNTERS_BYTES = 12;
/** Slots of the shared counters: batches sent, batches done, worker failed. */
export const SENT = 0;
export const DONE = 1;
export const FAILED = 2;
