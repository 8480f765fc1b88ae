import { parentPort, workerData } from 'node:worker_threads';
import { fdWriter, sinkFor } from './audit-sink.js';
import { Auditor } from './auditor.js';
import { OutputError } from './errors.js';
import { DONE, FAILED, type ToWorker, type WorkerInput, type WorkerResult } from './worker-protocol.js';
import { besideProgress } from './progress.js';

// The second half of auditInParallel: resolve, judge, plan and report what the walk sends.
const input = workerData as WorkerInput;
const counters = new Int32Array(input.progress);

/**
 * Tells the walking thread to stop waiting for us, then why. A report that could not be written
 * is the user's problem to hear about in one line, not a bug: its errno goes back as such.
 */
function fail(err: unknown): void {
  Atomics.store(counters, FAILED, 1);
  Atomics.notify(counters, DONE);
  if (err instanceof OutputError) parentPort!.postMessage({ error: err.message, output: err.errno });
  else parentPort!.postMessage({ error: (err as Error)?.stack ?? String(err) });
}
process.on('uncaughtException', fail);

try {
  const auditor = new Auditor(input.options, { collectFixes: input.collectFixes });
  const sink = sinkFor(input, auditor, besideProgress(fdWriter(input.fd), input.terminal));
  parentPort!.on('message', (m: ToWorker) => {
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
