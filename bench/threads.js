#!/usr/bin/env node
// @ts-check
// Where a linkcheck run's CPU goes, thread by thread (Linux): runs the command, reads
// /proc/PID/task/*/stat every few milliseconds while it runs, and prints the last reading of
// each thread: the walking (main) thread, the audit thread, and the rest (V8's compiler and
// garbage-collector threads, libuv's pool), beside the wall time. The last 20 ms of a thread can
// go unseen, and the sampling itself takes a little of the machine. On a machine with N cores a
// run cannot take less wall time than (sum of all threads' CPU) / N.
//
//   node bench/threads.js [--runs N] -- COMMAND ARGS...
//   e.g. node bench/threads.js --runs 3 -- node bin/linkcheck.js TREE --root TREE --format ndjson

import { spawn } from 'node:child_process';
import fs from 'node:fs';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
if (dash < 0 || dash === argv.length - 1) {
  console.error('usage: node bench/threads.js [--runs N] -- COMMAND ARGS...');
  process.exit(2);
}
const runsAt = argv.indexOf('--runs');
const runs = runsAt >= 0 && runsAt < dash ? Number(argv[runsAt + 1]) : 1;
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`threads: --runs takes a whole number of runs, at least 1, not "${argv[runsAt + 1]}"`);
  process.exit(2);
}
const [cmd, ...args] = /** @type {[string, ...string[]]} */ (argv.slice(dash + 1));
const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

/**
 * CPU ms (user, system) of every thread of `pid` now, by thread id.
 * @param {number | undefined} pid @param {Map<number, { user: number, sys: number }>} into
 */
function sample(pid, into) {
  let tids;
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      into.set(Number(tid), { user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS });
    } catch {
      // the thread ended between the listing and the read: its last sample stands
    }
  }
}

/**
 * One run of the command.
 * @typedef {{ ms: number, user: number, sys: number }} Cpu
 * @typedef {{ code: number | null, wall: number, main: Cpu, audit: (Cpu & { tid: number }) | null | undefined, rest: number, total: number }} Result
 * @returns {Promise<Result>}
 */
function once() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    /** @type {Map<number, { user: number, sys: number }>} */
    const seen = new Map();
    const timer = setInterval(() => sample(child.pid, seen), 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      const wall = performance.now() - t0;
      const threads = [...seen].map(([tid, c]) => ({ tid, ms: c.user + c.sys, ...c }));
      const main = threads.find((t) => t.tid === child.pid) ?? { ms: 0, user: 0, sys: 0 };
      const others = threads.filter((t) => t.tid !== child.pid).sort((a, b) => b.ms - a.ms);
      // The audit thread is the busiest thread besides main (a run without one has none busy).
      const audit = others[0] && others[0].ms > main.ms / 4 ? others.shift() : null;
      const rest = others.reduce((s, t) => s + t.ms, 0);
      resolve({ code, wall, main, audit, rest, total: main.ms + (audit?.ms ?? 0) + rest });
    });
  });
}

/** @param {number} ms */
const fmt = (ms) => (ms / 1000).toFixed(2);
/** @type {Result[]} */
const results = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  results.push(r);
  console.log(
    `run ${i + 1}: wall ${fmt(r.wall)} s | main ${fmt(r.main.ms)} s (user ${fmt(r.main.user)}, sys ${fmt(r.main.sys)}) | ` +
      `audit thread ${r.audit ? fmt(r.audit.ms) : '-'} s | other threads ${fmt(r.rest)} s | all threads ${fmt(r.total)} s | exit ${r.code}`,
  );
}
if (runs > 1) {
  /** @param {(r: Result) => number} f */
  const med = (f) => {
    const a = results.map(f).sort((x, y) => x - y);
    return /** @type {number} */ (a[a.length >> 1]);
  };
  console.log(
    `median: wall ${fmt(med((r) => r.wall))} s | main ${fmt(med((r) => r.main.ms))} s | audit thread ${fmt(med((r) => r.audit?.ms ?? 0))} s | ` +
      `other threads ${fmt(med((r) => r.rest))} s | all threads ${fmt(med((r) => r.total))} s`,
  );
}
