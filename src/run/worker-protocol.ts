import type { Summary } from '../audit/records.js';
import type { AppliedChange } from '../fix/applied-change.js';
import type { PlannedFix } from '../audit/records.js';
import type { Format } from '../report/formats/by-name.js';
import type { ReportContext } from '../report/reporter.js';
import type { AuditOptions } from '../config/settings.js';
import type { WalkedEntry } from '../walk/source.js';
import type { WalkCounts } from '../walk/walk.js';

/**
 * What crosses between the walking thread and the audit thread (see parallel.ts and
 * audit-worker.ts): plain data only, so both ends depend on this module and not on each other.
 */

/** One pass of the audit thread over a source: a walk's entries, until their end. */
export interface PassJob {
  /** Write the report (false: only plan, for --fix). */
  report: boolean;
  /** Keep the plan's fixes and send them back (for --fix). */
  collectFixes: boolean;
  /** What --fix did, for the report's end. */
  changes: readonly AppliedChange[];
}

/** What the audit thread needs to rebuild the run, and its first pass. */
export interface WorkerInput extends PassJob {
  options: Omit<AuditOptions, 'fs'>;
  format: Format;
  ctx: ReportContext;
  fd: number;
  /** The shared counters (see DONE, FAILED), for backpressure and failure. */
  progress: SharedArrayBuffer;
  /** The terminal lock of a progress line on the same terminal (see progress.ts), when one is drawn. */
  terminal?: SharedArrayBuffer | undefined;
}

/** What a run on two threads tells the audit thread once (its passes bring the rest). */
export type ThreadRun = Omit<WorkerInput, 'progress' | keyof PassJob>;

/** What the audit thread answers at the end. */
export interface WorkerResult {
  summary: Summary;
  fixes: PlannedFix[];
  leftovers: string[];
}

export type { Walked, WalkedEntry } from '../walk/source.js';

/**
 * Walking thread -> audit thread: a batch of entries, the walk's end with its totals, or (after
 * an end) the next pass, with counters of its own.
 */
export type ToWorker = WalkedEntry[] | { end: WalkCounts } | { pass: PassJob & { progress: SharedArrayBuffer } };

/** Audit thread -> walking thread: the result, or why it failed (`output`: the errno of a report that could not be written). */
export type FromWorker = WorkerResult | { error: string; output?: string };

/** Bytes of the shared counters. */
export const COUNTERS_BYTES = 8;
/** Slots of the shared counters: batches done, worker failed (the walking thread counts what it sent). */
export const DONE = 0;
export const FAILED = 1;
