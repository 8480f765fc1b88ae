import { Worker } from 'node:worker_threads';
import { fdWriter, sinkFor } from './sink.js';
import { Auditor } from '../audit/auditor.js';
import { fixPlanner } from '../fix/planner.js';
import { OutputError } from '../core/errors.js';
import type { Settings } from '../config/settings.js';
import type { Source } from '../walk/source.js';
import type { WalkCounts } from '../walk/walk.js';
import { COUNTERS_BYTES, DONE, FAILED, type FromWorker, type PassJob, type ThreadRun, type ToWorker, type WalkedEntry, type WorkerInput, type WorkerResult } from './worker-protocol.js';
import { besideProgress } from './progress.js';

const BATCH = 512;
const IN_FLIGHT = 8;
/**
 * Full batches kept back until the walk has shown it is worth a second thread: a walk that ends
 * before filling one more (under 1,536 links) is judged on this thread, which saves the worker's
 * start and stop (a third of a small run: docs/performance.md, "Figures behind the code"). The worker starts meanwhile, so a big walk
 * loses nothing.
 */
const HOLD = 2;

/**
 * The audit on two cores: this thread walks (readdir, readlink: the system calls that set the
 * pace) while a worker resolves, applies the rules, plans fixes and writes the report to `fd`.
 * The report is the same byte for byte as the single-threaded run (a test holds them equal).
 * Batches in flight are bounded, so memory stays flat however far the walk runs ahead; a worker
 * that fails raises a shared flag, so the walk never waits for it in vain.
 *
 * One worker serves every pass of a run: --fix's report after the fix is judged by the thread
 * that planned it, with a new judge and report but code V8 has already compiled and optimised.
 * Why: a second worker cost its start (a new isolate, the bundle compiled again, cold code) on
 * every --fix (docs/performance.md, "Figures behind the code").
 */
export class AuditThread {
  private started: StartedWorker | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly run: ThreadRun,
  ) {}

  /**
   * One pass of `source` through the judge (and the report, when `job.report`) on the worker.
   * `size`, when the pass knows it (a replay), is how many entries the source holds.
   */
  async pass(job: PassJob, source: Source, onJudged?: (judged: () => number) => void, size?: number): Promise<WorkerResult> {
    // A replay too small to hand over is judged here without starting a thread only to stop it.
    if (size !== undefined && size < (HOLD + 1) * BATCH && this.started === null) {
      const entries = [...source.entries()];
      onJudged?.(() => 0);
      return inline(this.settings, { ...this.run, ...job }, [entries], source.counts);
    }
    const progress = new SharedArrayBuffer(COUNTERS_BYTES);
    const counters = new Int32Array(progress);
    let started = this.started;
    if (started === null) started = this.started = startWorker({ ...this.run, ...job, progress });
    else started.worker.postMessage({ pass: { ...job, progress } } satisfies ToWorker);
    const result = started.next();
    const feed = new Feed(started.worker, counters);
    // Links judged, for a progress line: the worker's batches done, read without waiting.
    onJudged?.(() => Math.min(Atomics.load(counters, DONE) * BATCH, feed.added));
    try {
      for (const e of source.entries()) if (!feed.add(e)) break;
      const small = feed.keptBack();
      if (small !== null) {
        // A small walk: judged here, and the worker is stopped (a later pass starts another).
        // It stops meanwhile: stopping a thread still starting takes a while, which the judging
        // here need not wait for.
        result.catch(() => {});
        const stopped = this.close();
        const answer = inline(this.settings, { ...this.run, ...job }, small, source.counts);
        await stopped;
        return answer;
      }
      feed.flush();
      started.worker.postMessage({ end: source.counts } satisfies ToWorker);
      return await result;
    } catch (err) {
      result.catch(() => {});
      const failure = started.failure();
      await this.close();
      throw failure ?? err;
    }
  }

  /** Stops the worker, if one runs. */
  async close(): Promise<void> {
    const started = this.started;
    this.started = null;
    await started?.worker.terminate();
  }
}

/**
 * Walked entries on their way to the worker, in batches: the first HOLD full ones are kept back
 * until the walk shows it is worth a second thread, then batches in flight are bounded so memory
 * stays flat however far the walk runs ahead.
 */
class Feed {
  added = 0;
  private batch: WalkedEntry[] = [];
  private held: WalkedEntry[][] | null = [];
  private sent = 0;

  constructor(
    private readonly worker: Worker,
    private readonly counters: Int32Array,
  ) {}

  /** Takes one entry; false once the worker has failed (the walk should stop). */
  add(e: WalkedEntry): boolean {
    this.batch.push(e);
    this.added++;
    if (this.batch.length < BATCH) return true;
    this.send();
    return Atomics.load(this.counters, FAILED) === 0;
  }

  /** Everything taken, when none of it was handed over (a small walk); null otherwise. */
  keptBack(): WalkedEntry[][] | null {
    return this.held === null ? null : [...this.held, this.batch];
  }

  /** Hands over the last, partial batch. */
  flush(): void {
    if (this.batch.length > 0) this.send();
  }

  private send(): void {
    const b = this.batch;
    this.batch = [];
    if (this.held === null) return this.post(b);
    this.held.push(b);
    if (this.held.length <= HOLD) return;
    const first = this.held;
    this.held = null;
    for (const h of first) this.post(h);
  }

  /** Hands one batch to the worker, then waits while too many are in flight. */
  private post(b: WalkedEntry[]): void {
    const counters = this.counters;
    this.worker.postMessage(b);
    this.sent++;
    let waited = 0;
    for (;;) {
      if (Atomics.load(counters, FAILED) !== 0) return;
      const done = Atomics.load(counters, DONE);
      if (this.sent - done <= IN_FLIGHT) return;
      // A worker killed outright (out of memory) can raise no flag: no progress for a minute
      // while this thread waits means it is gone.
      if (Atomics.wait(counters, DONE, done, 100) === 'timed-out' && (waited += 100) > 60_000)
        throw new Error('the audit thread stopped responding; run with -j 1 to audit on one thread');
      if (Atomics.load(counters, DONE) !== done) waited = 0;
    }
  }
}

interface StartedWorker {
  worker: Worker;
  /** The answer to the pass under way. */
  next(): Promise<WorkerResult>;
  /** Why the worker failed, once it has. */
  failure(): Error | null;
}

/** Starts the audit thread on its first pass. */
function startWorker(data: WorkerInput): StartedWorker {
  // Explicit heap limits make V8 collect the old generation early instead of letting it grow
  // (the old-generation limit is far above what the worker keeps live, so it is only a hint);
  // a small young generation costs no time, as most of what the audit allocates dies young
  // (docs/performance.md, "Figures behind the code").
  const worker = new Worker(new URL('./audit-worker.js', import.meta.url), {
    workerData: data,
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 1024 },
  });
  let failure: Error | null = null;
  let waiting: { resolve(r: WorkerResult): void; reject(e: Error): void } | null = null;
  const fail = (err: Error): void => {
    failure ??= err;
    waiting?.reject(err);
    waiting = null;
  };
  worker.on('message', (m: FromWorker) => {
    if ('error' in m) return fail(m.output !== undefined ? new OutputError(m.output) : new Error(m.error));
    waiting?.resolve(m);
    waiting = null;
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the audit thread stopped (exit code ${code})`)));
  return {
    worker,
    next: () =>
      new Promise<WorkerResult>((resolve, reject) => {
        if (failure) reject(failure);
        else waiting = { resolve, reject };
      }),
    failure: () => failure,
  };
}

/** The worker's job done on this thread, for a walk that ended while its batches were held. */
function inline(settings: Settings, input: Omit<WorkerInput, 'progress'>, batches: WalkedEntry[][], counts: WalkCounts): WorkerResult {
  const auditor = new Auditor(settings, fixPlanner(input.collectFixes));
  const sink = sinkFor(input, auditor, besideProgress(fdWriter(input.fd), input.terminal));
  for (const b of batches) sink.feed(b);
  return sink.end(counts);
}
