import { parentPort, workerData } from 'node:worker_threads';
import { auditSink, fdWriter } from './audit-sink.js';
import { WriteFailed } from './output-file.js';
import { DONE, FAILED, type WalkedEntry, type WorkerInput, type WorkerResult } from './parallel.js';
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
  else if (err instanceof WriteFailed) parentPort!.postMessage({ error: err.message, writeFailed: err.code });
  else parentPort!.postMessage({ error: (err as Error)?.stack ?? String(err) });
}
process.on('uncaughtException', fail);

try {
  const sink = auditSink(input, fdWriter(input.fd));
  parentPort!.on('message', (m: WalkedEntry[] | { end: WalkCounts }) => {
    try {
      if (!Array.isArray(m)) {
        parentPort!.postMessage(sink.end(m.end) satisfies WorkerResult);
        return;
      }
      sink.feed(m);
      Atomics.add(counters, DONE, 1);
      Atomics.notify(counters, DONE);
    } catch (err) {
      fail(err);
    }
  });
} catch (err) {
  fail(err);
}
