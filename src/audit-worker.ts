import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Auditor } from './audit.js';
import { jsonReporter } from './report/json.js';
import { ndjsonReporter } from './report/ndjson.js';
import { prettyReporter } from './report/pretty.js';
import type { WalkedEntry, WorkerInput } from './parallel.js';
import type { WalkCounts } from './walk.js';

// The second half of auditInParallel: resolve, judge, plan and report what the walk sends.
const input = workerData as WorkerInput;
const counters = new Int32Array(input.progress);
const auditor = new Auditor(input.options, { collectFixes: false });
const reporter = input.format === 'json' ? jsonReporter() : input.format === 'ndjson' ? ndjsonReporter() : prettyReporter(input.ctx);

let buf = '';
function out(s: string): void {
  if (s === '') return;
  buf += s;
  if (buf.length > 1 << 16) flush();
}
function flush(): void {
  let data = Buffer.from(buf, 'utf8');
  buf = '';
  while (data.length > 0) {
    try {
      const n = writeSync(input.fd, data);
      data = data.subarray(n);
    } catch (err) {
      // A non-blocking pipe that is full: wait for the reader a moment.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(counters, 0, Atomics.load(counters, 0) + 1, 5);
    }
  }
}

const head = { root: auditor.settings.root, scanned: auditor.settings.scanned };
const begun = reporter.begin(head);
if (!(input.ctx.quiet && input.format === 'pretty')) out(begun);

parentPort!.on('message', (m: WalkedEntry[] | { end: WalkCounts }) => {
  try {
    if (!Array.isArray(m)) {
      auditor.finish(m.end);
      out(reporter.end(auditor.summary, []));
      flush();
      parentPort!.postMessage({ summary: auditor.summary });
      return;
    }
    for (const e of m) {
      if (e[4] === undefined) out(reporter.event(auditor.link(e[0], e[1], e[2], e[3])));
      else out(reporter.event({ type: 'unreadable', entry: auditor.unreadable(e[2], e[3], e[4] === 'd' ? 'directory' : 'link') }));
    }
    Atomics.add(counters, 1, 1);
    Atomics.notify(counters, 1);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
    parentPort!.postMessage({ error: (err as Error).stack ?? String(err) });
  }
});
