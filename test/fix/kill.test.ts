/**
 * Fault injection: `linkcheck --fix` over 3000 fixable links, SIGKILLed at random moments.
 * After each kill every planned link still exists with its old or its new text (never missing),
 * every temporary link holds a valid new text, and every link already rewritten is in the
 * journal. A later run removes the leftovers of killed runs and finishes the job; a run after
 * that changes nothing. SIGINT and SIGTERM stop a run between two links: exit 130, no temp link.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { diffSnapshots, links, removeDir, snapshot, TEMP_RE, tempDir, tempLinks } from '../support/disk.js';
import { BIN } from '../support/repo.js';
import { journalChanges } from '../support/journal.js';

const DIRS = 30;
const PER_DIR = 100;
const KILL_ROUNDS = 10;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from spawn to the journal's first byte (the apply phase began), or null. */
  applyAt: number | null;
  /** ms from spawn to exit. */
  took: number;
  pid: number;
}

/**
 * Runs `linkcheck --fix` with a journal. `stop` decides when to signal it: given the child, the
 * ms since spawn, and whether the apply phase has begun; it returns a signal to send, or null.
 */
function fixRun(args: string[], journal: string, stop: (elapsed: number, applying: boolean) => NodeJS.Signals | null = () => null): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child: ChildProcess = spawn(process.execPath, [BIN, ...args, '--fix', '--journal', journal], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    let applyAt: number | null = null;
    let sent = false;
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    // Poll the journal: it grows by one fsynced line just before each rename.
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      if (applyAt === null && (fs.statSync(journal, { throwIfNoEntry: false })?.size ?? 0) > 0) applyAt = elapsed;
      if (!sent) {
        const sig = stop(elapsed, applyAt !== null);
        if (sig) {
          sent = true;
          child.kill(sig);
        }
      }
    }, 1);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, stdout, stderr, applyAt, took: performance.now() - t0, pid: child.pid! });
    });
  });
}

/** Journal entries' paths (none when there is no journal yet); a torn last line (killed mid-write) is ignored, as undo does. */
function journalPaths(file: string): Set<string> {
  return new Set(journalChanges(file).map((c) => c.path));
}

describe('--fix killed at random moments', () => {
  let base = '';
  let R = '';
  let tree = '';
  let round = 0;
  /** link path -> [old text, new text] */
  const expected = new Map<string, [string, string]>();
  /** directory -> the new texts its links may have (a temp link holds one of them). */
  const newTexts = new Map<string, Set<string>>();

  const journal = (): string => `${base}/journal-${round++}.ndjson`;
  const reset = (): void => {
    for (const [p, [old]] of expected) {
      if (fs.readlinkSync(p) === old) continue;
      fs.unlinkSync(p);
      fs.symlinkSync(old, p);
    }
  };

  /** The invariants after any stop: returns how many links hold the new text. */
  const check = (when: string, journalFile: string | null): { fixed: number; temps: number } => {
    let fixed = 0;
    const journaled = journalFile ? journalPaths(journalFile) : null;
    for (const [p, [old, neu]] of expected) {
      const s = fs.lstatSync(p, { throwIfNoEntry: false });
      expect(s, `${when}: ${p} is missing`).toBeDefined();
      expect(s!.isSymbolicLink(), `${when}: ${p} is no longer a link`).toBe(true);
      const t = fs.readlinkSync(p);
      expect(t === old || t === neu, `${when}: ${p} -> ${t}`).toBe(true);
      if (t === neu) {
        fixed++;
        if (journaled) expect(journaled.has(p), `${when}: ${p} was rewritten but is not in the journal`).toBe(true);
      }
    }
    const temps = tempLinks(tree);
    for (const t of temps) {
      expect(fs.lstatSync(t).isSymbolicLink(), `${when}: ${t}`).toBe(true);
      expect(newTexts.get(t.slice(0, t.lastIndexOf('/')))?.has(fs.readlinkSync(t)), `${when}: temp link ${t} -> ${fs.readlinkSync(t)}`).toBe(true);
    }
    // Nothing but the planned links and temporary links.
    const all = links(tree);
    for (const p of all.keys()) expect(expected.has(p) || TEMP_RE.test(p.slice(p.lastIndexOf('/') + 1)), `${when}: stray ${p}`).toBe(true);
    return { fixed, temps: temps.length };
  };

  beforeAll(() => {
    ensureBuilt();
    base = tempDir('kill');
    R = `${base}/jail`;
    tree = `${R}/srv`;
    fs.mkdirSync(`${R}/data`, { recursive: true });
    for (let i = 0; i < PER_DIR; i++) fs.writeFileSync(`${R}/data/f${i}`, `${i}\n`);
    for (let d = 0; d < DIRS; d++) {
      // Directories at two depths, so the new texts differ.
      const dir = d % 2 === 0 ? `${tree}/d${d}` : `${tree}/d${d}/inner`;
      fs.mkdirSync(dir, { recursive: true });
      const up = '../'.repeat(dir.slice(R.length).split('/').length - 1);
      newTexts.set(dir, new Set());
      for (let i = 0; i < PER_DIR; i++) {
        const p = `${dir}/l${i}`;
        fs.symlinkSync(`${R}/data/f${i}`, p);
        expected.set(p, [`${R}/data/f${i}`, `${up}data/f${i}`]);
        newTexts.get(dir)!.add(`${up}data/f${i}`);
      }
    }
    expect(expected.size).toBe(DIRS * PER_DIR);
  });

  afterAll(() => removeDir(base));

  it('every link keeps its old or its new text; a later run cleans up and finishes', async () => {
    // How long a whole run takes, and when its apply phase begins.
    const measure = journal();
    const full = await fixRun([tree, '--root', R, '--quiet'], measure);
    expect(full.code, full.stderr).toBe(0);
    expect(full.applyAt).not.toBeNull();
    expect(check('after the measured run', measure)).toEqual({ fixed: expected.size, temps: 0 });
    const applyAt = full.applyAt!;
    const took = full.took;

    let midApply = 0;
    let tempsSeen = 0;
    let lastPid = 0;
    const log: string[] = [];
    // Later runs are faster than the measured one (a warm cache), so some kills land after the
    // last link: on a tmpfs about half do. Extra rounds until three landed mid-apply.
    for (let k = 0; k < KILL_ROUNDS || (midApply < 3 && k < 2 * KILL_ROUNDS); k++) {
      reset();
      const j = journal();
      // Even rounds: a blind moment anywhere in the run (scan included). Odd rounds: a moment
      // inside the apply phase, measured from its start (seen on the journal).
      let applyStart: number | null = null;
      const delay = k % 2 === 0 ? Math.random() * took : Math.random() * (took - applyAt) * 0.9;
      const out = await fixRun([tree, '--root', R, '--quiet'], j, (elapsed, applying) => {
        if (k % 2 === 0) return elapsed >= delay ? 'SIGKILL' : null;
        if (applying && applyStart === null) applyStart = elapsed;
        return applyStart !== null && elapsed - applyStart >= delay ? 'SIGKILL' : null;
      });
      lastPid = out.pid;
      const { fixed, temps } = check(`after kill ${k} at ${delay.toFixed(0)} ms`, j);
      if (out.signal === 'SIGKILL' && fixed > 0 && fixed < expected.size) midApply++;
      tempsSeen += temps;
      log.push(`${out.signal ?? `exit ${out.code}`}@${delay.toFixed(0)}ms: ${fixed} fixed, ${temps} temp`);
    }
    console.log(`kill: a full run takes ${took.toFixed(0)} ms (apply from ${applyAt.toFixed(0)} ms); ${log.join('; ')}`);
    // The kills did land inside the apply phase (else this test proved nothing).
    expect(midApply, log.join('\n')).toBeGreaterThanOrEqual(3);

    // A leftover of a run that is certainly over (the last killed one), besides any real ones.
    const planted = `${tree}/d0/.linkcheck-tmp.${lastPid}.1.0`;
    fs.symlinkSync('../../data/f0', planted);
    // ... and one of a run that is alive (this test process): it must be left alone.
    const alive = `${tree}/d0/.linkcheck-tmp.${process.pid}.${fs.readFileSync(`/proc/${process.pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[19]}.0`;
    fs.symlinkSync('../../data/f1', alive);
    const leftovers = tempLinks(tree).filter((t) => t !== alive);
    const final = await fixRun([tree, '--root', R, '--format', 'json'], journal());
    expect(final.code, final.stderr).toBe(0);
    const report = JSON.parse(final.stdout) as { changes: { path: string; status: string }[] };
    expect(report.changes.filter((c) => c.status === 'removed').map((c) => c.path).sort()).toEqual(leftovers.sort());
    expect(report.changes.filter((c) => c.status !== 'removed' && c.status !== 'changed')).toEqual([]);
    expect(tempLinks(tree)).toEqual([alive]);
    fs.unlinkSync(alive);
    expect(check('after the final run', null)).toEqual({ fixed: expected.size, temps: 0 });
    for (const [p] of [...expected].filter((_, i) => i % 97 === 0)) expect(fs.readFileSync(p, 'utf8')).toBe(`${p.slice(p.lastIndexOf('/l') + 2)}\n`);
    console.log(`kill: ${tempsSeen} temp links seen after kills; the final run removed ${leftovers.length}`);

    // A run after that changes nothing.
    const before = snapshot(tree);
    const again = await fixRun([tree, '--root', R, '--format', 'json'], journal());
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { changes: unknown[] }).changes).toEqual([]);
    expect(diffSnapshots(before, snapshot(tree))).toEqual([]);
  }, 240_000);

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} stops a run between two links: exit 130, no temp link`, async () => {
      reset();
      const j = journal();
      // Within the apply phase's first ~120 ms: on a tmpfs the whole phase takes ~400 ms.
      const delay = 20 + Math.random() * 100;
      let applyStart: number | null = null;
      const out = await fixRun([tree, '--root', R, '--quiet'], j, (elapsed, applying) => {
        if (applying && applyStart === null) applyStart = elapsed;
        return applyStart !== null && elapsed - applyStart >= delay ? sig : null;
      });
      expect(out.signal, out.stderr).toBeNull();
      expect(out.code, out.stderr).toBe(130);
      expect(out.stderr).toMatch(new RegExp(`interrupted by ${sig}`));
      const { fixed, temps } = check(`after ${sig}`, j);
      expect(temps).toBe(0);
      // It stopped in the middle: some links done, some not.
      expect(fixed).toBeGreaterThan(0);
      expect(fixed).toBeLessThan(expected.size);
      // Everything it did is journaled, and nothing more: one line per rewritten link.
      expect(journalPaths(j).size).toBe(fixed);
      // Running again finishes the job.
      const rest = await fixRun([tree, '--root', R, '--quiet'], journal());
      expect(rest.code, rest.stderr).toBe(0);
      expect(check(`after ${sig} and a second run`, null)).toEqual({ fixed: expected.size, temps: 0 });
    }, 60_000);
  }
});
