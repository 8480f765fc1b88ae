import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Auditor } from './audit.js';
import { byteWriter } from './report/buffered.js';
import { plannedChanges } from './fix/change.js';
import { DONE, FAILED, type WalkedEntry, type WorkerInput, type WorkerResult } from './parallel.js';
import { reporterFor } from './report/formats.js';
import type { WalkCounts } from './walk.js';

// The second half of auditInParallel: resolve, judge, plan and report what the walk sends.
const input = workerData as WorkerInput;
const counters = new Int32Array(input.progress);

/**
 * Tells the walking thread to stop waiting for us, then why. A reader that went away (`| head`)
 * is not an error: it is reported as such, so the command ends quietly.
 */
function fail(err: unknown): void {
  Atomics.store(counters, FAILED, 1);
  Atomics.notify(counters, DONE);
  if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') parentPort!.postMessage({ error: 'EPIPE', epipe: true });
  else parentPort!.postMessage({ error: (err as Error)?.stack ?? String(err) });
}
process.on('uncaughtException', fail);

/** Writes all of `data` to the report's file descriptor (a thread has no process.stdout of its own). */
function writeAll(data: Buffer): void {
  while (data.length > 0) {
    try {
      const n = writeSync(input.fd, data);
      data = data.subarray(n);
    } catch (err) {
      // A non-blocking pipe that is full: wait for the reader a moment.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(counters, FAILED, 0, 5);
    }
  }
}
const writer = byteWriter(writeAll);
const out = (s: string): void => {
  if (input.report) writer.write(s);
};

try {
  const auditor = new Auditor(input.options, { collectFixes: input.collectFixes });
  const reporter = reporterFor(input.format, input.ctx);
  out(reporter.begin({ root: auditor.settings.root, scanned: auditor.settings.scanned }));

  parentPort!.on('message', (m: WalkedEntry[] | { end: WalkCounts }) => {
    try {
      if (!Array.isArray(m)) {
        auditor.finish(m.end);
        const changes = input.ctx.mode === 'dry-run' ? plannedChanges(auditor.fixes) : input.changes;
        out(reporter.end(auditor.summary, changes));
        writer.flush();
        parentPort!.postMessage({ summary: auditor.summary, fixes: auditor.fixes, leftovers: auditor.leftovers } satisfies WorkerResult);
        return;
      }
      for (const e of m) {
        if (e[4] === undefined) out(reporter.event(auditor.link(e[0], e[1], e[2], e[3])));
        else out(reporter.event({ type: 'unreadable', entry: auditor.unreadable(e[2], e[3], e[4] === 'd' ? 'directory' : 'link') }));
      }
      Atomics.add(counters, DONE, 1);
      Atomics.notify(counters, DONE);
    } catch (err) {
      fail(err);
    }
  });
} catch (err) {
  fail(err);
}
