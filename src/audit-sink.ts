import { writeSync } from 'node:fs';
import { Auditor } from './pipeline.js';
import { errnoOf, OutputError } from './errors.js';
import { plannedChanges } from './fix/change.js';
import type { WalkedEntry, WorkerInput, WorkerResult } from './worker-protocol.js';
import { byteWriter } from './report/buffered.js';
import { reporterFor } from './report/formats.js';
import type { WalkCounts } from './walk.js';

/** The half of a two-thread audit that follows the walk: judge, plan and report what it sends. */
export interface AuditSink {
  feed(entries: readonly WalkedEntry[]): void;
  /** Writes the report's end and answers what the run found. */
  end(counts: WalkCounts): WorkerResult;
}

/**
 * Judges walked entries in order and writes the report to `write`: what the audit thread does
 * with each batch, and what the walking thread does itself when the walk was too small to be
 * worth handing over.
 */
export function auditSink(input: Omit<WorkerInput, 'progress' | 'fd'>, write: (b: Buffer) => void): AuditSink {
  const writer = byteWriter(write);
  const out = (s: string): void => {
    if (input.report) writer.write(s);
  };
  const auditor = new Auditor(input.options, { collectFixes: input.collectFixes });
  const reporter = reporterFor(input.format, input.ctx);
  out(reporter.begin({ root: auditor.settings.root, scanned: auditor.settings.scanned }));
  return {
    feed(entries) {
      for (const e of entries) {
        if (e[4] === undefined) out(reporter.event(auditor.link(e[0], e[1], e[2], e[3])));
        else out(reporter.event({ type: 'unreadable', entry: auditor.unreadable(e[2], e[3], e[4] === 'd' ? 'directory' : 'link') }));
      }
    },
    end(counts) {
      for (const c of auditor.closing()) out(reporter.check?.(c) ?? '');
      auditor.finish(counts);
      const changes = input.ctx.mode === 'dry-run' ? plannedChanges(auditor.fixes) : input.changes;
      out(reporter.end(auditor.summary, changes, { stale: auditor.stale() }));
      writer.flush();
      return { summary: auditor.summary, fixes: auditor.fixes, leftovers: auditor.leftovers };
    },
  };
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
