import { parentPort, workerData } from 'node:worker_threads';
import { fdWriter, sinkFor, type AuditSink } from './sink.js';
import { Auditor } from '../audit/auditor.js';
import { fixPlanner } from '../fix/planner.js';
import { OutputError } from '../core/errors.js';
import { DONE, FAILED, type PassJob, type ToWorker, type WorkerInput, type WorkerResult } from './worker-protocol.js';
import { besideProgress } from './progress.js';

// The second half of AuditThread (parallel.ts): resolve, judge, plan and report what the walk sends.
const input = workerData as WorkerInput;
let counters = new Int32Array(input.progress);

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
  const write = besideProgress(fdWriter(input.fd), input.terminal);
  // Each pass a new judge and report, as a new thread would have: only the compiled code is kept.
  const begin = (job: PassJob): AuditSink => sinkFor({ ...input, ...job }, new Auditor(input.options, fixPlanner(job.collectFixes)), write);
  let sink = begin(input);
  parentPort!.on('message', (m: ToWorker) => {
    try {
      if (Array.isArray(m)) {
        sink.feed(m);
        Atomics.add(counters, DONE, 1);
        Atomics.notify(counters, DONE);
      } else if ('end' in m) {
        parentPort!.postMessage(sink.end(m.end) satisfies WorkerResult);
      } else {
        counters = new Int32Array(m.pass.progress);
        sink = begin(m.pass);
      }
    } catch (err) {
      fail(err);
    }
  });
} catch (err) {
  fail(err);
}
