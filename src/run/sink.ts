import { writeSync } from 'node:fs';
import { Auditor } from '../audit/auditor.js';
import { errnoOf, OutputError } from '../core/errors.js';
import { type AppliedChange, plannedChanges } from '../fix/applied-change.js';
import type { WalkedEntry, WorkerInput, WorkerResult } from './worker-protocol.js';
import { byteWriter } from '../report/buffered.js';
import { reporterFor } from '../report/formats/by-name.js';
import type { Reporter } from '../report/reporter.js';
import type { ReportHeader } from '../report/json-shape.js';
import type { Settings } from '../config/settings.js';
import type { WalkCounts } from '../walk/walk.js';

/** The stages after the source: judge (and plan), then report; fed entries in path order. */
export interface AuditSink {
  feed(entries: readonly WalkedEntry[]): void;
  /** Links judged so far (for a progress line). */
  judged(): number;
  /** Writes the report's end and answers what the run found. */
  end(counts: WalkCounts): WorkerResult;
}

/** What the report pass writes beyond what it judges. */
export interface SinkJob {
  /** Write the report (false: only plan, for --fix). */
  report: boolean;
  /** --fix --dry-run: the report's changes are the planned fixes. */
  dryRun: boolean;
  /** What --fix did, for the report's end. */
  changes: readonly AppliedChange[];
}

/** A text sink that gathers small writes (see report/buffered.ts). */
export interface TextWriter {
  write(s: string): void;
  flush(): void;
}

/**
 * Judges walked entries in order and writes the report through `writer`: what the audit thread
 * does with each batch, and what the walking thread does itself on one thread or when the walk
 * was too small to be worth handing over.
 */
export function auditSink(auditor: Auditor, reporter: Reporter, job: SinkJob, writer: TextWriter): AuditSink {
  // A pass that only plans leaves the reporter untouched: reporters keep state (json's first link).
  if (!job.report) reporter = SILENT;
  const out = (s: string): void => {
    if (job.report) writer.write(s);
  };
  out(reporter.begin(headerOf(auditor.settings)));
  return {
    feed(entries) {
      auditor.batch(entries, (ev) => out(reporter.event(ev)));
    },
    judged: () => auditor.summary.links,
    end(counts) {
      for (const c of auditor.closing()) out(reporter.check?.(c) ?? '');
      auditor.finish(counts);
      const changes = job.dryRun ? plannedChanges(auditor.fixes) : job.changes;
      out(reporter.end(auditor.summary, changes, { stale: auditor.stale() }));
      writer.flush();
      auditor.close();
      return { summary: auditor.summary, fixes: auditor.fixes, leftovers: auditor.leftovers };
    },
  };
}

const SILENT: Reporter = { begin: () => '', event: () => '', end: () => '' };

/** The sink the audit thread builds from plain data (also used for a walk judged on the walking thread). */
export function sinkFor(input: Omit<WorkerInput, 'progress' | 'fd'>, auditor: Auditor, write: (b: Buffer) => void): AuditSink {
  const job = { report: input.report, dryRun: input.ctx.mode === 'dry-run', changes: input.changes };
  return auditSink(auditor, reporterFor(input.format, input.ctx), job, byteWriter(write));
}

/**
 * Writes all of each buffer to `fd` with writeSync: a worker has no process.stdout of its own,
 * and a synchronous write fails where it happens, so a full disk cannot pass for a clean run.
 * A non-blocking pipe that is full (EAGAIN) is waited on a moment, on `sleep`'s first slot.
 * A reader that went away (EPIPE: `linkcheck ... | head`) is let go: later writes are dropped and
 * the run goes on to its end, so the exit code is the one the whole check earns, whatever -j.
 * Any other error is an OutputError.
 */
export function fdWriter(fd: number, sleep: Int32Array = new Int32Array(new SharedArrayBuffer(4))): (b: Buffer) => void {
  let readerGone = false;
  return (data) => {
    while (data.length > 0 && !readerGone) {
      try {
        data = data.subarray(writeSync(fd, data));
      } catch (err) {
        const code = errnoOf(err);
        if (code === 'EAGAIN') Atomics.wait(sleep, 0, Atomics.load(sleep, 0), 5);
        else if (code === 'EPIPE') readerGone = true;
        else throw new OutputError(code);
      }
    }
  };
}

/** What a report starts with: the run's root and scanned paths, its reader and preset, the image's layers. */
function headerOf(s: Settings): ReportHeader {
  return { root: s.root, scanned: s.scanned, asUser: s.reader, preset: s.policy.preset, image: s.image && { layers: s.image.layers } };
}
