/**
 * The lock end to end, as cron and a deploy hook meet: two `--fix --quiet --journal J` runs
 * started together on 3,000 absolute links. One fixes, the other exits 75 with one line on
 * stderr and changes nothing (or, with --wait, waits and then has nothing to do); the journal
 * holds exactly one line per change, all of one run. A holder killed with SIGKILL does not block
 * the next run. An undo meets the same lock. Audits take no lock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/fix/lock.js';
import { ensureBuilt } from '../support/build.js';
import { links, removeDir, tempDir, tempLinks } from '../support/disk.js';
import { BIN } from '../support/repo.js';
import { journalChanges } from '../support/journal.js';

const DIRS = 30;
const PER_DIR = 100;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let base = '';
let R = '';
let tree = '';
let locks = '';
let round = 0;

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', LINKCHECK_LOCK_DIR: locks, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Outcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Every link absolute again, as after a deploy. */
function reset(): void {
  for (let d = 0; d < DIRS; d++)
    for (let i = 0; i < PER_DIR; i++) {
      const p = `${tree}/d${d}/l${i}`;
      fs.rmSync(p, { force: true });
      fs.symlinkSync(`${R}/data/f${i}`, p);
    }
}

function fixedCount(): number {
  let n = 0;
  for (const [, text] of links(tree)) if (!text.startsWith('/')) n++;
  return n;
}


/** A fresh tree and a --fix run on it, once it is applying (its journal has a line): the lock is held. */
async function applying(): Promise<{ j: string; first: ReturnType<typeof start> }> {
  reset();
  const j = `${base}/journal${round++}`;
  const first = start([tree, '--root', R, '--fix', '--quiet', '--journal', j]);
  while ((fs.statSync(j, { throwIfNoEntry: false })?.size ?? 0) === 0) await new Promise((r) => setTimeout(r, 1));
  return { j, first };
}

beforeAll(() => {
  ensureBuilt();
  base = tempDir('lock');
  R = `${base}/jail`;
  tree = `${R}/app`;
  locks = `${base}/locks`;
  fs.mkdirSync(locks, { mode: 0o755 });
  fs.mkdirSync(`${R}/data`, { recursive: true });
  for (let i = 0; i < PER_DIR; i++) fs.writeFileSync(`${R}/data/f${i}`, `${i}\n`);
  for (let d = 0; d < DIRS; d++) fs.mkdirSync(`${tree}/d${d}`, { recursive: true });
  reset();
});

afterAll(() => removeDir(base));

describe('two --fix runs started together', () => {
  it('one fixes everything, the other exits 75 and changes nothing; one journal line per change', async () => {
    const outcomes: string[] = [];
    for (let k = 0; k < 2; k++) {
      reset();
      const j = `${base}/journal${round++}`;
      const args = [tree, '--root', R, '--fix', '--quiet', '--all', '--journal', j];
      const [a, b] = [start(args), start(args)];
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const [won, lost] = ra.code === 0 ? [ra, rb] : [rb, ra];
      outcomes.push(`${ra.code}/${rb.code}`);
      expect(won.code, won.stderr).toBe(0);
      expect(lost.code, `${lost.stdout}\n${lost.stderr}`).toBe(75);
      expect(lost.stdout).toBe('');
      expect(lost.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(lost.stderr).toMatch(new RegExp(`^linkcheck: a --fix run \\(pid \\d+ on .*\\) is already working on the root ${R}: nothing changed; .*--wait`));
      expect(won.stdout.split('\n').filter((l) => l.startsWith('fixed '))).toHaveLength(DIRS * PER_DIR);
      expect(won.stdout).not.toMatch(/skipped|changed during the run/);
      const lines = journalChanges(j);
      expect(lines).toHaveLength(DIRS * PER_DIR);
      expect(new Set(lines.map((l) => l.path)).size).toBe(DIRS * PER_DIR);
      expect(new Set(lines.map((l) => l.run)).size).toBe(1);
      expect(fixedCount()).toBe(DIRS * PER_DIR);
      expect(tempLinks(tree)).toEqual([]);
    }
    expect(fs.readdirSync(locks)).toEqual([]);
    console.log(`lock: 2 rounds of two runs started together: exit codes ${outcomes.join(', ')}`);
  }, 120_000);

  it('with --wait, the second waits for the first and then has nothing to do', async () => {
    reset();
    const j = `${base}/journal${round++}`;
    const args = [tree, '--root', R, '--fix', '--quiet', '--all', '--journal', j, '--wait', '60'];
    const [ra, rb] = await Promise.all([start(args).done, start(args).done]);
    expect([ra.code, rb.code], `${ra.stderr}\n${rb.stderr}`).toEqual([0, 0]);
    const outs = [ra.stdout, rb.stdout].sort((x, y) => x.length - y.length);
    // The later run found every link fixed: cron gets no mail from it.
    expect(outs[0]).toBe('');
    expect(outs[1]!.split('\n').filter((l) => l.startsWith('fixed '))).toHaveLength(DIRS * PER_DIR);
    expect(journalChanges(j)).toHaveLength(DIRS * PER_DIR);
    expect(fixedCount()).toBe(DIRS * PER_DIR);
  }, 120_000);

  it('a run started while another holds the lock exits 75 at once without --wait', async () => {
    const { j, first } = await applying();
    // Frozen mid-apply, the first run holds the lock for as long as the two others take to start
    // (on a fast disk a whole run takes ~300 ms, less than two CLI starts on a busy machine). A
    // stopped holder is alive: were the others to wait for it to end, they would wait for ever.
    first.child.kill('SIGSTOP');
    let second, undo, bareMs, secondMs;
    try {
      let t = performance.now();
      await start(['--version']).done;
      bareMs = performance.now() - t;
      t = performance.now();
      second = await start([tree, '--root', R, '--fix', '--quiet', '--journal', j]).done;
      secondMs = performance.now() - t;
      undo = await start(['undo', j]).done;
    } finally {
      first.child.kill('SIGCONT');
    }
    const r1 = await first.done;
    expect(second.code, second.stderr).toBe(75);
    // At once: within a second of a bare start, where any wait of its own would show.
    expect(secondMs, `--fix took ${secondMs.toFixed(0)} ms, a bare start ${bareMs.toFixed(0)} ms`).toBeLessThan(bareMs + 1000);
    expect(undo.code, undo.stderr).toBe(75);
    expect(undo.stderr).toMatch(/already working on the root/);
    expect(r1.code, r1.stderr).toBe(0);
    expect(journalChanges(j)).toHaveLength(DIRS * PER_DIR);
  }, 120_000);

  it('an audit and --fix --dry-run take no lock: they run while it is held', async () => {
    reset();
    const held = await acquireLock({ root: R, dir: locks, waitMs: 0, what: 'fix' });
    try {
      const audit = await start([tree, '--root', R, '--format', 'json']).done;
      expect(audit.code, audit.stderr).toBe(1); // host-absolute links dangle in the jail: errors, not busy
      expect(JSON.parse(audit.stdout).summary.links).toBe(DIRS * PER_DIR);
      const plan = await start([tree, '--root', R, '--fix', '--dry-run', '--quiet', '--all']).done;
      expect(plan.code, plan.stderr).toBe(1);
      expect(plan.stdout.split('\n').filter((l) => l.startsWith('would fix '))).toHaveLength(DIRS * PER_DIR);
      // Control: a real fix does meet the lock.
      const fix = await start([tree, '--root', R, '--fix', '--quiet']).done;
      expect(fix.code).toBe(75);
      expect(fixedCount()).toBe(0);
    } finally {
      held.release();
    }
  }, 120_000);
});

describe('undo --wait', () => {
  it('waits for the run in progress and then undoes all of it, not the part journaled when it started', async () => {
    const { j, first } = await applying();
    const undo = await start(['undo', j, '--last', '--wait', '60']).done;
    expect((await first.done).code).toBe(0);
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout).toMatch(new RegExp(`restored ${DIRS * PER_DIR}, skipped 0 of ${DIRS * PER_DIR} journal entries`));
    expect(fixedCount()).toBe(0);
  }, 120_000);
});

describe('a lock holder killed with SIGKILL', () => {
  it('does not block the next run, which finishes the job', async () => {
    const { j, first } = await applying();
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    // Its lock is still there, naming a dead process.
    const held = fs.readdirSync(locks).filter((f) => f.endsWith('.lock'));
    expect(held).toHaveLength(1);
    expect(fs.readFileSync(`${locks}/${held[0]}`, 'utf8')).toContain(`pid=${first.child.pid}\n`);
    const done = fixedCount();
    expect(done).toBeLessThan(DIRS * PER_DIR);
    const next = await start([tree, '--root', R, '--fix', '--quiet', '--journal', j]).done;
    expect(next.code, next.stderr).toBe(0);
    expect(fixedCount()).toBe(DIRS * PER_DIR);
    expect(tempLinks(tree)).toEqual([]);
    expect(fs.readdirSync(locks)).toEqual([]);
    // Each change has its line, across both runs. The killed run may have journaled its last
    // change and died before the rename: that one line names a change that never happened
    // (undo then finds the old text there and skips it), and the next run made it.
    const lines = journalChanges(j);
    expect(new Set(lines.map((l) => l.path)).size).toBe(DIRS * PER_DIR);
    const killedRun = lines[0]!.run;
    const extra = lines.length - DIRS * PER_DIR;
    expect(extra === 0 || extra === 1, `${extra} extra lines`).toBe(true);
    if (extra === 1) {
      const lastOfKilled = lines.filter((l) => l.run === killedRun).pop()!;
      expect(lines.filter((l) => l.path === lastOfKilled.path).map((l) => l.run)).toEqual([killedRun, lines[lines.length - 1]!.run]);
    }
  }, 120_000);
});

describe('the lock directory', () => {
  it('one another user could write is refused with exit 2 and one line, before anything changes', async () => {
    reset();
    const open = `${base}/open-locks`;
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const r = await start([tree, '--root', R, '--fix'], { LINKCHECK_LOCK_DIR: open }).done;
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/another user could hold its locks/);
    expect(fixedCount()).toBe(0);
  });
});
