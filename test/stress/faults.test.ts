/**
 * Disk full and read-only, mid-run: `--fix` on a small tmpfs whose inodes run out, whose space the
 * journal itself uses up, or which is remounted read-only while the fixer works. Each time: exit 0
 * (the run ended first) or exit 2 with one line naming the errno; every link holds its old or its
 * new text (never missing); the journal is truthful (no change without a line, no line without a
 * change, but for the one case the error line names); undo puts everything back. Faults are
 * injected once the journal shows the run under way, at a seeded point.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/fix/journal.js';
import { ensureBuilt } from '../support/build.js';
import { spawnCli, spawnCliAsync, type SpawnResult } from '../support/cli.js';
import { isRoot, removeDir, sleep, TEMP_RE, tempDir } from '../support/disk.js';
import { IN_CI } from '../support/integration.js';
import { mulberry32 } from '../support/prng.js';
import { seedFor } from '../support/stress.js';

const DIRS = 20;
const LINKS_PER_DIR = 600;
const reason = isRoot() ? null : 'mounting a tmpfs needs root';
if (reason !== null && IN_CI) throw new Error('the fault tests need root, and CI runs as root');

const sh = (cmd: string, args: string[]): void => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
};

describe.skipIf(reason !== null)(`--fix on a file system that fills up or turns read-only${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let work = '';
  let mnt = '';
  let root = '';
  /** link path -> [old text, planned new text] */
  const plan = new Map<string, [string, string]>();
  let faults = 0;

  beforeAll(() => ensureBuilt());
  afterEach(() => {
    if (mnt) spawnSync('umount', ['-l', mnt]);
    removeDir(work);
    mnt = '';
    plan.clear();
  });
  afterAll(() => console.log(`faults: ${faults} faults injected mid-run`));

  /** A tmpfs with DIRS x LINKS_PER_DIR host-absolute links, each planned for a relative text. */
  function setUp(options: string): void {
    work = tempDir('faults');
    mnt = `${work}/mnt`;
    fs.mkdirSync(mnt);
    sh('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mnt]);
    root = `${mnt}/root`;
    fs.mkdirSync(`${root}/t`, { recursive: true });
    for (let k = 0; k < 10; k++) fs.writeFileSync(`${root}/t/f${k}`, 'x');
    for (let d = 0; d < DIRS; d++) {
      fs.mkdirSync(`${root}/d${d}`);
      for (let i = 0; i < LINKS_PER_DIR; i++) {
        const p = `${root}/d${d}/l${i}`;
        fs.symlinkSync(`${root}/t/f${i % 10}`, p);
        plan.set(p, [`${root}/t/f${i % 10}`, `../t/f${i % 10}`]);
      }
    }
  }

  /**
   * Runs --fix, and injects `fault` once the journal has grown past a seeded point; `keep` then
   * runs every millisecond until the run ends (a disk someone keeps filling).
   */
  async function fixWithFault(journal: string, fault: () => void, seed: number, keep?: () => void): Promise<SpawnResult> {
    const lineBytes = 100 + root.length * 2;
    const at = Math.floor((0.05 + mulberry32(seed)() * 0.6) * plan.size) * lineBytes;
    const run = spawnCliAsync([root, '--root', root, '--fix', '--quiet', '--journal', journal, '-j', '1']);
    let done = false;
    void run.then(() => (done = true));
    while (!done) {
      const size = fs.statSync(journal, { throwIfNoEntry: false })?.size ?? 0;
      if (size >= at) {
        fault();
        faults++;
        break;
      }
      await sleep(1);
    }
    while (keep && !done) {
      keep();
      await sleep(1);
    }
    return run;
  }

  /**
   * The kernel refuses a read-only remount (EBUSY) while any write is in flight on the mount, and
   * the fixer's symlink, rename and utimes calls are such writes: about one first try in thirteen
   * lands inside one (3 of 40 runs here). Try again until it takes; the next try finds no write
   * in flight, as each lasts microseconds.
   */
  function remountReadOnly(): void {
    for (let tries = 1; ; tries++) {
      const m = spawnSync('mount', ['-o', 'remount,ro', mnt], { encoding: 'utf8' });
      if (m.status === 0) return;
      if (!/busy/i.test(m.stderr) || tries === 100) throw new Error(`mount -o remount,ro ${mnt} (try ${String(tries)}): ${m.stderr.trim()}`);
    }
  }

  /** Every link old or new, the journal truthful, temporary links only when they could not go. */
  function check(r: SpawnResult, journal: string, code: 'ENOSPC' | 'EROFS'): { changed: number } {
    const problems: string[] = [];
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const stopped = new RegExp(`^linkcheck: --fix stopped at \\S+: .* \\(${code}\\); \\d+ links? changed before it, each in the journal, and nothing half done`);
    if (r.code === 2) {
      if (lines.length !== 1 || !stopped.test(lines[0]!)) problems.push(`exit 2 without the one line: ${r.stderr}`);
    } else if (r.code !== 0) problems.push(`exit ${String(r.code)}: ${r.stderr}`);
    const changed = new Set<string>();
    for (const [p, [old, neu]] of plan) {
      let text: string;
      try {
        text = fs.readlinkSync(p);
      } catch (err) {
        problems.push(`${p}: ${(err as NodeJS.ErrnoException).code} (missing or not a link)`);
        continue;
      }
      if (text === neu) changed.add(p);
      else if (text !== old) problems.push(`${p}: neither old nor new: ${text}`);
    }
    const entries = fs.existsSync(journal) ? readJournal(journal).entries : [];
    const journaled = new Set(entries.map((e) => e.path));
    for (const p of changed) if (!journaled.has(p)) problems.push(`${p} changed without a journal line`);
    const unreal = entries.filter((e) => !changed.has(e.path));
    const owned = r.code === 2 && lines[0]!.includes("the journal's last line names this change, which did not happen");
    if (unreal.length > (owned ? 1 : 0) || (unreal.length === 1 && unreal[0] !== entries[entries.length - 1]))
      problems.push(`journal lines for changes that did not happen: ${unreal.map((e) => e.path).join(', ')}`);
    for (const e of entries) if (plan.get(e.path)?.[1] !== e.new) problems.push(`journal line for ${e.path} says ${e.new}, not the planned text`);
    const temps = fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((n) => TEMP_RE.test(n.split('/').pop()!));
    if (temps.length > (code === 'EROFS' ? 1 : 0)) problems.push(`temporary links left: ${temps.join(', ')}`);
    expect(problems, problems.slice(0, 20).join('\n')).toEqual([]);
    return { changed: changed.size };
  }

  /** Undo puts back every change; a later --fix finishes the job. */
  function undoThenFinish(journal: string): void {
    const u = spawnCli(['undo', journal]);
    expect(u.code, u.stderr + u.stdout.slice(-300)).toBe(0);
    for (const [p, [old]] of plan) expect(fs.readlinkSync(p)).toBe(old);
    const again = spawnCli([root, '--root', root, '--fix', '--quiet']);
    expect(again.code, again.stderr).toBe(0);
    for (const [p, [, neu]] of plan) expect(fs.readlinkSync(p)).toBe(neu);
  }

  it('no inode left before the run: exit 2 with one line, nothing changed, the journal empty', () => {
    setUp(`size=64m,nr_inodes=${DIRS * LINKS_PER_DIR + DIRS + 200}`);
    let n = 0;
    try {
      for (;;) fs.closeSync(fs.openSync(`${mnt}/fill${n++}`, 'w'));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const journal = `${work}/journal`;
    const r = spawnCli([root, '--root', root, '--fix', '--journal', journal]);
    expect(r.code).toBe(2);
    expect(check(r, journal, 'ENOSPC').changed).toBe(0);
    expect(r.stderr).toMatch(/ 0 links changed before it/);
    for (let i = 0; i < n - 1; i++) fs.unlinkSync(`${mnt}/fill${i}`);
    undoThenFinish(journal);
  }, 120_000);

  it('inodes run out mid-run (journal elsewhere): stops with one line; old or new; journal truthful', async () => {
    setUp(`size=64m,nr_inodes=${DIRS * LINKS_PER_DIR + DIRS + 200}`);
    const journal = `${work}/journal`;
    let n = 0;
    const fill = (): void => {
      try {
        for (;;) fs.closeSync(fs.openSync(`${mnt}/fill${n++}`, 'w'));
      } catch {
        // full
      }
    };
    // Each fix frees the old link's inode as it renames the new one over it: whoever fills the
    // disk keeps taking what is freed.
    const r = await fixWithFault(journal, fill, seedFor('faults: inodes'), fill);
    expect(r.code, r.stderr).toBe(2);
    expect(check(r, journal, 'ENOSPC').changed).toBeGreaterThan(0);
    for (let i = 0; i < n - 1; i++) fs.rmSync(`${mnt}/fill${i}`, { force: true });
    undoThenFinish(journal);
  }, 120_000);

  // The journal line that meets the full disk is written short: a short write is a failed one, so
  // the fixer stops before that line's rename (no change without its whole line).
  it('the journal fills the file system it sits on: stops with one line; old or new; journal truthful', () => {
    // Room for about a third of the journal's lines.
    setUp(`size=${Math.ceil((DIRS * LINKS_PER_DIR * (150 + 60)) / 3 / 4096)}k`);
    const journal = `${mnt}/journal`;
    const r = spawnCli([root, '--root', root, '--fix', '--quiet', '--journal', journal, '-j', '1']);
    faults++;
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^linkcheck: cannot write the journal .*\((ENOSPC|short write: \d+ of \d+ bytes)\): stopped before changing .*\n$/);
    const { changed } = check({ ...r, stderr: '', code: 0 }, journal, 'ENOSPC');
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThan(plan.size);
    fs.copyFileSync(journal, `${work}/journal`); // off the full file system (another device: no rename)
    fs.rmSync(journal);
    undoThenFinish(`${work}/journal`);
  });

  it('remounted read-only mid-run (journal elsewhere): stops with one line; old or new; journal truthful', async () => {
    setUp('size=64m');
    const journal = `${work}/journal`;
    const r = await fixWithFault(journal, remountReadOnly, seedFor('faults: read-only'));
    expect(r.code, r.stderr).toBe(2);
    expect(check(r, journal, 'EROFS').changed).toBeGreaterThan(0);
    sh('mount', ['-o', 'remount,rw', mnt]);
    undoThenFinish(journal);
  }, 120_000);

  it('the journal on the same file system: the kernel refuses the read-only remount while the fixer writes it', async () => {
    setUp('size=64m');
    const journal = `${mnt}/journal`;
    let refused = '';
    const r = await fixWithFault(journal, () => {
      const m = spawnSync('mount', ['-o', 'remount,ro', mnt], { encoding: 'utf8' });
      refused = m.status === 0 ? '' : m.stderr;
    }, seedFor('faults: read-only, journal on it'));
    expect(refused, 'the remount was refused').toMatch(/busy/i);
    expect(r.code, r.stderr).toBe(0);
    expect(check(r, journal, 'EROFS').changed).toBe(plan.size);
    fs.copyFileSync(journal, `${work}/journal`);
    for (const [p, [, neu]] of plan) expect(fs.readlinkSync(p)).toBe(neu);
  });
});
