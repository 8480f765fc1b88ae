import { Worker } from 'node:worker_threads';
import { fdWriter, sinkFor } from './audit-sink.js';
import { Auditor } from './auditor.js';
import { OutputError } from './errors.js';
import type { Settings } from './settings.js';
import type { Source } from './source.js';
import type { WalkCounts } from './walk.js';
import { COUNTERS_BYTES, DONE, FAILED, type FromWorker, type ToWorker, type WalkedEntry, type WorkerInput, type WorkerResult } from './worker-protocol.js';
import { besideProgress } from './progress.js';

const BATCH = 512;
const IN_FLIGHT = 8;
/**
 * Full batches kept back until the walk has shown it is worth a second thread: a walk that ends
 * before filling one more (under 1,536 links) is judged on this thread, which saves the worker's
 * start and stop (0.06 s, a third of a small run). The worker starts meanwhile, so a big walk
 * loses nothing.
 */
const HOLD = 2;

/**
 * The audit on two cores: this thread walks (readdir, readlink: the system calls that set the
 * pace) while a worker resolves, applies the rules, plans fixes and writes the report to `fd`.
 * The report is the same byte for byte as the single-threaded run (a test holds them equal).
 * Batches in flight are bounded, so memory stays flat however far the walk runs ahead; a worker
 * that fails raises a shared flag, so the walk never waits for it in vain.
 */
export async function auditInParallel(
  settings: Settings,
  input: Omit<WorkerInput, 'progress'>,
  source: Source,
  onJudged?: (judged: () => number) => void,
): Promise<WorkerResult> {
  const progress = new SharedArrayBuffer(COUNTERS_BYTES);
  const counters = new Int32Array(progress);
  const { worker, result, failure } = startWorker({ ...input, progress });
  let batch: WalkedEntry[] = [];
  let held: WalkedEntry[][] | null = [];
  let sent = 0;
  let added = 0;
  // Links judged, for a progress line: the worker's batches done, read without waiting.
  onJudged?.(() => Math.min(Atomics.load(counters, DONE) * BATCH, added));
  /** Hands one batch to the worker, then waits while too many are in flight. */
  const post = (b: WalkedEntry[]): void => {
    worker.postMessage(b);
    sent++;
    let waited = 0;
    for (;;) {
      if (Atomics.load(counters, FAILED) !== 0) return;
      const done = Atomics.load(counters, DONE);
      if (sent - done <= IN_FLIGHT) return;
      // A worker killed outright (out of memory) can raise no flag: no progress for a minute
      // while this thread waits means it is gone.
      if (Atomics.wait(counters, DONE, done, 100) === 'timed-out' && (waited += 100) > 60_000)
        throw new Error('the audit thread stopped responding; run with -j 1 to audit on one thread');
      if (Atomics.load(counters, DONE) !== done) waited = 0;
    }
  };
  const send = (): void => {
    const b = batch;
    batch = [];
    if (held === null) return post(b);
    held.push(b);
    if (held.length <= HOLD) return;
    const first = held;
    held = null;
    for (const h of first) post(h);
  };
  const add = (e: WalkedEntry): boolean => {
    batch.push(e);
    added++;
    if (batch.length < BATCH) return true;
    send();
    return Atomics.load(counters, FAILED) === 0;
  };
  for (const e of source.entries()) if (!add(e)) break;
  if (held !== null) {
    // A small walk: judged here, and the worker is stopped before it has done anything.
    result.catch(() => {});
    await worker.terminate();
    return inline(settings, input, [...held, batch], source.counts);
  }
  if (batch.length > 0) send();
  worker.postMessage({ end: source.counts } satisfies ToWorker);
  try {
    return await result;
  } catch (err) {
    throw failure() ?? err;
  } finally {
    await worker.terminate();
  }
}

/** Starts the audit thread; `failure` is why it failed, once it has. */
function startWorker(data: WorkerInput): { worker: Worker; result: Promise<WorkerResult>; failure: () => Error | null } {
  // Explicit heap limits make V8 collect the old generation early instead of letting it grow
  // (peak RSS at 1M entries: 198 MB without, 145 MB with; the old-generation limit is far above
  // what the worker keeps live, so it is only a hint). A 4 MB young generation against 8 MB:
  // 6 MB less at 300k, no slower (most of what the audit allocates dies young). Measured in
  // docs/performance.md.
  const worker = new Worker(new URL('./audit-worker.js', import.meta.url), {
    workerData: data,
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 1024 },
  });
  let failure: Error | null = null;
  const result = new Promise<WorkerResult>((resolve, reject) => {
    worker.once('message', (m: FromWorker) =>
      'error' in m ? reject(m.output !== undefined ? new OutputError(m.output) : new Error(m.error)) : resolve(m),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the audit thread stopped (exit code ${code})`)));
  }).catch((err: Error) => {
    failure = err;
    throw err;
  });
  return { worker, result, failure: () => failure };
}

/** The worker's job done on this thread, for a walk that ended while its batches were held. */
function inline(settings: Settings, input: Omit<WorkerInput, 'progress'>, batches: WalkedEntry[][], counts: WalkCounts): WorkerResult {
  const auditor = new Auditor(settings, { collectFixes: input.collectFixes });
  const sink = sinkFor(input, auditor, besideProgress(fdWriter(input.fd), input.terminal));
  for (const b of batches) sink.feed(b);
  return sink.end(counts);
}
