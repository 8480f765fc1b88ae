#!/usr/bin/env node
// The audit thread's work on its own: walks TREE once (untimed, as the main thread would, texts
// read), then replays what the walk met through the same code the worker runs (judge, plan,
// report to /dev/null) on this one thread, timed. It answers "how many µs per link does the
// worker need" without the second thread's start-up or the two threads slowing each other.
// Needs a build (npm run build). It holds every walked link in memory, so its peak RSS says
// nothing about linkcheck's.
//
//   node bench/replay.js TREE [--root ROOT] [--format ndjson|json|pretty] [--runs N]
//
// It calls the library's internals (the audit thread's sink), so `npm run typecheck` checks it
// against src/ (tsconfig.check.json's rootDirs) and says when they change.

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { fdWriter, sinkFor } from '../dist/src/run/sink.js';
import { Auditor } from '../dist/src/audit/auditor.js';
import { fixPlanner } from '../dist/src/fix/planner.js';
import { runInfo } from '../dist/src/report/run-info.js';
import { nodeFsPort } from '../dist/src/core/fs-port.js';
import { settingsFrom } from '../dist/src/config/settings.js';
import { walk } from '../dist/src/walk/walk.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { root: { type: 'string' }, format: { type: 'string', default: 'ndjson' }, runs: { type: 'string', default: '3' } },
});
if (positionals.length !== 1) {
  console.error('usage: node bench/replay.js TREE [--root ROOT] [--format ndjson|json|pretty] [--runs N]');
  process.exit(2);
}
const options = { paths: positionals, root: values.root ?? /** @type {string} */ (positionals[0]) };
let settings;
try {
  settings = settingsFrom({ ...options, fs: nodeFsPort() });
} catch (err) {
  console.error(`replay: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
/** @type {import('../dist/src/run/worker-protocol.js').WalkedEntry[]} */
const entries = [];
const counts = { entries: 0, directories: 0 };
for (const top of settings.scanned) {
  for (const ev of walk(settings.fs, top, {}, counts)) {
    if (ev.type === 'link') entries.push([ev.dir, ev.name, ev.path, settings.fs.readlink(ev.path)]);
    else entries.push(['', '', ev.path, ev.errno, 'd']);
  }
}
const links = entries.filter((e) => e.length === 4).length;
const devNull = fs.openSync('/dev/null', 'w');
const times = [];
for (let run = 0; run < Number(values.runs); run++) {
  // The batches as the audit thread gets them: copied between threads, so no two entries share
  // a string (a path the walk built once per directory arrives once per link).
  const batches = [];
  for (let i = 0; i < entries.length; i += 512) batches.push(structuredClone(entries.slice(i, i + 512)));
  const t0 = performance.now();
  /** @type {Parameters<typeof sinkFor>[0]} */
  const input = { options, format: /** @type {any} */ (values.format), ctx: { color: false, quiet: false, mode: 'audit', run: runInfo('replay', Date.now()) }, report: true, collectFixes: false, changes: [] };
  const sink = sinkFor(input, new Auditor(settings, fixPlanner(false)), fdWriter(devNull));
  for (const b of batches) sink.feed(b);
  sink.end(counts);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const median = /** @type {number} */ (times[Math.floor(times.length / 2)]);
console.log(
  `${links} links, ${counts.entries} entries: replay median ${median.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')}), ` +
    `${((median * 1000) / links).toFixed(1)} µs per link, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
);
