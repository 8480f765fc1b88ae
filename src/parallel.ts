import { Worker } from 'node:worker_threads';
import type { Summary } from './audit.js';
import { errnoOf } from './errors.js';
import type { ReportContext } from './report/reporter.js';
import type { AuditOptions, Settings } from './settings.js';
import { walk, type WalkCounts } from './walk.js';

/** What the audit thread needs to rebuild the run: plain data only. */
export interface WorkerInput {
  options: Omit<AuditOptions, 'fs'>;
  format: 'pretty' | 'json' | 'ndjson';
  ctx: ReportContext;
  fd: number;
  /** [batches sent, batches done], for backpressure. */
  progress: SharedArrayBuffer;
}

/** One walked entry: [dir, name, path, text] for a link; ['', '', path, errno, 'd' | 'l'] for a directory or link that could not be read. */
export type WalkedEntry = [string, string, string, string] | [string, string, string, string, 'd' | 'l'];

const BATCH = 512;
const IN_FLIGHT = 32;
const YOUNG_MB = Number(process.env.LC_YOUNG ?? 8);

/**
 * The audit on two cores: this thread walks (readdir, readlink: the system calls that set the
 * pace) while a worker resolves, applies the rules, plans fixes and writes the report to `fd`.
 * The report is the same byte for byte as the single-threaded run (a test holds them equal).
 * Batches in flight are bounded, so memory stays flat however far the walk runs ahead.
 */
export async function auditInParallel(settings: Settings, input: Omit<WorkerInput, 'progress'>): Promise<Summary> {
  const progress = new SharedArrayBuffer(8);
  const counters = new Int32Array(progress);
  // A small young generation: the worker makes short-lived garbage fast, and a large nursery
  // only raises peak memory (measured in docs/performance.md).
  const worker = new Worker(new URL('./audit-worker.js', import.meta.url), {
    workerData: { ...input, progress } satisfies WorkerInput,
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB },
  });
  const result = new Promise<Summary>((resolve, reject) => {
    worker.once('message', (m: { summary?: Summary; error?: string }) => (m.summary ? resolve(m.summary) : reject(new Error(m.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the audit thread stopped (exit code ${code})`)));
  });
  const counts: WalkCounts = { entries: 0, directories: 0 };
  let batch: WalkedEntry[] = [];
  let sent = 0;
  const send = (): void => {
    worker.postMessage(batch);
    batch = [];
    sent++;
    for (;;) {
      const done = Atomics.load(counters, 1);
      if (sent - done <= IN_FLIGHT) break;
      Atomics.wait(counters, 1, done, 100);
    }
  };
  for (const top of settings.scanned) {
    for (const ev of walk(settings.fs, top, { exclude: settings.exclude, oneFileSystem: settings.oneFileSystem }, counts)) {
      if (ev.type === 'unreadable') batch.push(['', '', ev.path, ev.errno, 'd']);
      else {
        let text: string;
        try {
          text = settings.fs.readlink(ev.path);
        } catch (err) {
          batch.push(['', '', ev.path, errnoOf(err), 'l']);
          continue;
        }
        batch.push([ev.dir, ev.name, ev.path, text]);
      }
      if (batch.length >= BATCH) send();
    }
  }
  if (batch.length > 0) send();
  worker.postMessage({ end: counts });
  try {
    return await result;
  } finally {
    await worker.terminate();
  }
}
