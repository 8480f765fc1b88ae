// Trains the V8 code caches of the two bundles (see src/cli/code-cache.ts): runs each on a small tree
// made for the purpose, the way real runs do, then writes what V8 compiled meanwhile beside the
// bundle. Run by scripts/build.mjs in a process of its own, stdout to /dev/null (the CLI's report).
//
// The audit thread's bundle runs here on this thread, its node:worker_threads replaced by a port
// that is fed the walk's entries in batches, as parallel.ts feeds them (of 64 here, so the small
// tree still makes several): the same code runs, so the same functions are compiled. The worker's cache is written first, so the CLI's -j 2 runs use it.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { cacheBytes, cacheFileOf, compileBundle } from '../dist/src/cli/code-cache.js';
import { runInfo } from '../dist/src/report/run-info.js';
import { settingsFrom } from '../dist/src/config/settings.js';
import { walkSource } from '../dist/src/walk/source.js';
import { COUNTERS_BYTES } from '../dist/src/run/worker-protocol.js';

const dist = path.resolve('dist/src');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-code-cache-'));
try {
  const tree = path.join(tmp, 'tree');
  makeTree(tree);
  trainWorker(tree);
  await trainCli(tree);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** A jail with a link of each kind the rules judge, a few hundred in all. */
function makeTree(root) {
  for (const d of ['etc', 'usr/bin', 'var/www/app/shared/log', 'var/www/app/releases/1/config', 'var/www/app/releases/2/config', 'data dir/naïve']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['etc/hosts', 'usr/bin/env', 'var/www/app/shared/log/production.log', 'data dir/naïve/file']) fs.writeFileSync(path.join(root, f), '');
  const link = (target, at) => fs.symlinkSync(target, path.join(root, at));
  link('usr/bin', 'bin');
  link('/var/www/app/releases/2', 'var/www/app/current');
  link(`${root}/var/www/app/releases/1`, 'var/www/app/previous');
  for (let i = 0; i < 40; i++) {
    const dir = `var/www/app/releases/${1 + (i % 2)}/config`;
    link('../../../shared/log/production.log', `${dir}/ok-${i}`);
    link('/var/www/app/shared/log/production.log', `${dir}/jail-absolute-${i}`);
    link(`${root}/etc/hosts`, `${dir}/host-absolute-${i}`);
    link('../../../../../../../../../etc/hosts', `${dir}/escaping-${i}`);
    link(`missing-${i}`, `${dir}/dangling-${i}`);
    link(`loop-b-${i}`, `${dir}/loop-a-${i}`);
    link(`loop-a-${i}`, `${dir}/loop-b-${i}`);
    link(`ok-${i}`, `${dir}/chain-${i}`);
    link('..', `${dir}/up-${i}`);
    link('/bin/../usr/bin/env', `${dir}/via-link-${i}`);
    link('../../../../../data dir/naïve/file', `${dir}/naïve ${i}`);
  }
}

/** The audit thread's bundle, fed each kind of job it takes. */
function trainWorker(tree) {
  const bundle = path.join(dist, 'worker-bundle.js');
  const compiled = compileBundle(bundle);
  const out = fs.openSync('/dev/null', 'w');
  const own = createRequire(bundle);
  const ctx = (mode, quiet) => ({ color: false, quiet, mode, run: runInfo('0.0.0', 0), failOn: 'error', scanLabels: [[tree, '']] });
  const jobs = [
    { format: 'pretty', ctx: ctx('audit', true), report: true, collectFixes: false },
    { format: 'pretty', ctx: ctx('audit', false), report: true, collectFixes: false },
    { format: 'ndjson', ctx: ctx('audit', false), report: true, collectFixes: false },
    { format: 'json', ctx: ctx('audit', false), report: true, collectFixes: false },
    { format: 'pretty', ctx: ctx('fix', true), report: false, collectFixes: true },
  ];
  for (const job of jobs) {
    let onMessage = null;
    const port = { on: (_event, f) => (onMessage = f), postMessage: () => {} };
    const input = { ...job, options: { paths: [tree], root: tree }, fd: out, changes: [], progress: new SharedArrayBuffer(COUNTERS_BYTES) };
    const require = (id) => (id === 'node:worker_threads' ? { parentPort: port, workerData: input } : own(id));
    compiled.run(require);
    const source = walkSource(settingsFrom({ paths: [tree], root: tree }));
    let batch = [];
    for (const e of source.entries()) {
      batch.push(e);
      if (batch.length === 64) onMessage(batch.splice(0));
    }
    onMessage(batch);
    onMessage({ end: source.counts });
    process.removeAllListeners('uncaughtException');
  }
  fs.closeSync(out);
  write(bundle, compiled);
}

/** The CLI's bundle, run as the command line runs it: audits on one and two threads, --version, --fix. */
async function trainCli(tree) {
  const bundle = path.join(dist, 'cli-bundle.js');
  const compiled = compileBundle(bundle);
  const { main } = compiled.run();
  const runs = [
    ['--version'],
    [tree, '--root', tree, '--quiet', '-j', '1'],
    [tree, '--root', tree, '-j', '1'],
    [tree, '--root', tree, '--format', 'ndjson', '-j', '1'],
    [tree, '--root', tree, '--format', 'json', '-j', '1'],
    [tree, '--root', tree, '--quiet', '-j', '2'],
    [tree, '--root', tree, '--format', 'ndjson', '-j', '2'],
    [tree, '--root', tree, '--fix', '--quiet', '-j', '2'],
  ];
  const argv = process.argv;
  // --fix takes its lock in a directory of this run's own, not the machine's.
  process.env.LINKCHECK_LOCK_DIR = path.join(tmp, 'locks');
  for (const args of runs) {
    process.argv = [argv[0], 'linkcheck', ...args];
    await main();
  }
  process.argv = argv;
  process.exitCode = 0;
  write(bundle, compiled);
}

/** Writes a cache whole or not at all (a reader never sees half of one; a bad one is ignored anyway). */
function write(bundle, compiled) {
  const file = cacheFileOf(bundle);
  fs.writeFileSync(`${file}.tmp`, cacheBytes(compiled));
  fs.renameSync(`${file}.tmp`, file);
}
