/**
 * The per-root lock: one holder at a time; a second waits up to its budget and then gets Busy;
 * a holder killed with SIGKILL does not block the next; a take-over is exclusive even when many
 * processes race for the same dead holder's lock (checked with a critical section that detects
 * overlap, and a control without the lock that shows the detector works); a lock directory
 * another user could write is refused.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, Busy, lockDirFor, lockName, lockRoots, waitMs } from '../../../src/fix/lock.js';
import { UsageError } from '../../../src/core/errors.js';
import { ensureBuilt } from '../../support/build.js';
import { REPO } from '../../support/repo.js';

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-lock-')));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;
const lockDir = (): string => {
  const d = `${base}/locks${n++}`;
  fs.mkdirSync(d, { mode: 0o755 });
  return d;
};

const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const ns = fs.readlinkSync('/proc/self/ns/pid');

/** A lock file as a process that is gone would have left it. */
function deadIdentity(opts: { host?: string } = {}): string {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  return `linkcheck lock 1\npid=${pid}\nstart=12345\nboot=${bootId}\nns=${ns}\nhost=${opts.host ?? os.hostname()}\nnonce=${Math.random().toString(16).slice(2)}\nwhat=fix\nsince=2026-01-01T00:00:00.000Z\nroot=/r\n`;
}

describe('the lock', () => {
  it('one holder at a time: a second gets Busy naming the holder, and the lock once released', async () => {
    const dir = lockDir();
    const a = await acquireLock({ root: '/srv/lighty', dir, waitMs: 0, what: 'fix' });
    const err = await acquireLock({ root: '/srv/lighty', dir, waitMs: 0, what: 'undo' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Busy);
    expect((err as Busy).message).toMatch(new RegExp(`a --fix run \\(pid ${process.pid} on ${os.hostname()}, since `));
    // Another root is another lock.
    const other = await acquireLock({ root: '/srv/other', dir, waitMs: 0, what: 'fix' });
    other.release();
    a.release();
    const b = await acquireLock({ root: '/srv/lighty', dir, waitMs: 0, what: 'fix' });
    b.release();
    // Nothing is left behind.
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a waiter gets the lock when the holder lets go within its wait, and not after', async () => {
    const dir = lockDir();
    const a = await acquireLock({ root: '/r', dir, waitMs: 0, what: 'fix' });
    setTimeout(() => a.release(), 300);
    const t0 = Date.now();
    const b = await acquireLock({ root: '/r', dir, waitMs: 5000, what: 'fix' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    const t1 = Date.now();
    await expect(acquireLock({ root: '/r', dir, waitMs: 400, what: 'fix' })).rejects.toBeInstanceOf(Busy);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(390);
    b.release();
  });

  it("a dead holder's lock is taken over, and what dead contenders left is swept", async () => {
    const dir = lockDir();
    const file = `${dir}/${lockName('/r')}`;
    fs.writeFileSync(file, deadIdentity());
    // A breaker killed in the middle of a take-over, and a contender killed before it linked.
    const dead = deadIdentity();
    fs.writeFileSync(`${file}.break-0123456789abcdef`, dead);
    fs.writeFileSync(`${file}.999999.00ff.tmp`, dead);
    // Another root's lock, left by a dead run, and one held by a live run (this process).
    fs.writeFileSync(`${dir}/${lockName('/gone')}`, deadIdentity());
    const live = await acquireLock({ root: '/live', dir, waitMs: 0, what: 'fix' });
    const l = await acquireLock({ root: '/r', dir, waitMs: 0, what: 'fix' });
    expect(fs.existsSync(`${dir}/${lockName('/gone')}`)).toBe(false);
    expect(fs.existsSync(`${dir}/${lockName('/live')}`)).toBe(true);
    live.release();
    expect(fs.readFileSync(file, 'utf8')).toMatch(new RegExp(`^linkcheck lock 1\npid=${process.pid}\n`));
    expect(fs.readdirSync(dir).filter((f) => !f.endsWith('.tmp') || !f.includes(`.${process.pid}.`)).sort()).toEqual([lockName('/r')]);
    l.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("a dead holder whose breaker was killed holding its marker is still taken over", async () => {
    const dir = lockDir();
    const file = `${dir}/${lockName('/r')}`;
    const content = deadIdentity();
    fs.writeFileSync(file, content);
    const hash = (await import('node:crypto')).createHash('sha256').update(content).digest('hex').slice(0, 16);
    fs.writeFileSync(`${file}.break-${hash}`, deadIdentity());
    const l = await acquireLock({ root: '/r', dir, waitMs: 0, what: 'fix' });
    l.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a live holder, or one on another host (it cannot be checked from here), is never taken over', async () => {
    const dir = lockDir();
    const file = `${dir}/${lockName('/r')}`;
    fs.writeFileSync(file, deadIdentity({ host: 'elsewhere' }));
    await expect(acquireLock({ root: '/r', dir, waitMs: 0, what: 'fix' })).rejects.toThrow(/pid \d+ on elsewhere/);
    // Control: the same file from this host is taken over.
    fs.writeFileSync(file, deadIdentity());
    (await acquireLock({ root: '/r', dir, waitMs: 0, what: 'fix' })).release();
  });

  it('several roots are locked in order, all or none', async () => {
    const dir = lockDir();
    const b = await acquireLock({ root: '/b', dir, waitMs: 0, what: 'fix' });
    await expect(lockRoots(['/c', '/b', '/a'], { dir, waitMs: 0, what: 'undo' })).rejects.toBeInstanceOf(Busy);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.lock'))).toEqual([lockName('/b')]);
    b.release();
    const all = await lockRoots(['/c', '/b', '/a'], { dir, waitMs: 0, what: 'undo' });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.lock')).length).toBe(3);
    all.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a lock directory others could write, or a symlink', async () => {
    const open = lockDir();
    fs.chmodSync(open, 0o777);
    await expect(acquireLock({ root: '/r', dir: open, waitMs: 0, what: 'fix' })).rejects.toThrow(UsageError);
    await expect(acquireLock({ root: '/r', dir: open, waitMs: 0, what: 'fix' })).rejects.toThrow(/mode 777: another user could hold its locks/);
    fs.symlinkSync(lockDir(), `${base}/linked`);
    await expect(acquireLock({ root: '/r', dir: `${base}/linked`, waitMs: 0, what: 'fix' })).rejects.toThrow(/not a directory/);
    // A missing one is created.
    const fresh = `${base}/fresh${n++}`;
    (await acquireLock({ root: '/r', dir: fresh, waitMs: 0, what: 'fix' })).release();
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o755);
  });

  it('the lock directory: /run/linkcheck for root, an override from LINKCHECK_LOCK_DIR', () => {
    expect(lockDirFor({ LINKCHECK_LOCK_DIR: '/x/y' })).toBe('/x/y');
    if (process.geteuid?.() === 0) expect(lockDirFor({})).toBe('/run/linkcheck');
    else expect(lockDirFor({ XDG_RUNTIME_DIR: '/run/user/1000' })).toBe('/run/user/1000/linkcheck');
  });

  it('--wait values', () => {
    expect(waitMs(undefined)).toBe(0);
    expect(waitMs('0')).toBe(0);
    expect(waitMs('2.5')).toBe(2500);
    for (const bad of ['-1', 'x', '', '1e3', ' 1']) expect(() => waitMs(bad), bad).toThrow(UsageError);
  });
});

/**
 * Many processes race for one lock; a third of them SIGKILL themselves while holding it, so the
 * others keep racing to take over dead holders' locks. Each holder marks a critical section with
 * its pid; finding a live process's mark there means two held the lock at once.
 */
describe('take-over races', () => {
  let lockModule = '';
  beforeAll(() => {
    ensureBuilt();
    lockModule = `${REPO}/dist/src/fix/lock.js`;
  });

  const child = `
    import * as fs from 'node:fs';
    const [mod, dir, cs, useLock, die] = process.argv.slice(1);
    const { acquireLock } = await import(mod);
    // A process killed but not yet reaped is a zombie: gone, though kill(pid, 0) still finds it.
    const alive = (pid) => { try { return !/^\\d+ \\(.*\\) [ZX] /.test(fs.readFileSync('/proc/' + pid + '/stat', 'latin1')); } catch { return false; } };
    const held = useLock === '1' ? await acquireLock({ root: '/race', dir, waitMs: 60000, what: 'fix' }) : null;
    let overlap = 0, tookOver = 0;
    for (const name of fs.readdirSync(cs)) {
      if (alive(Number(name))) overlap++;
      else { tookOver++; fs.rmSync(cs + '/' + name, { force: true }); }
    }
    fs.writeFileSync(cs + '/' + process.pid, '');
    const until = Date.now() + 15;
    while (Date.now() < until) for (const name of fs.readdirSync(cs)) if (name !== String(process.pid) && alive(Number(name))) { overlap++; break; }
    process.stdout.write(JSON.stringify({ overlap, tookOver }) + '\\n');
    if (die === '1') process.kill(process.pid, 'SIGKILL');
    fs.rmSync(cs + '/' + process.pid, { force: true });
    held?.release();
  `;

  async function race(useLock: boolean, total: number, parallel: number): Promise<{ overlap: number; tookOver: number; killed: number }> {
    const dir = lockDir();
    const cs = `${base}/cs${n++}`;
    fs.mkdirSync(cs);
    const sum = { overlap: 0, tookOver: 0, killed: 0 };
    let started = 0;
    const one = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const die = started++ % 3 === 1;
        const p = spawn(process.execPath, ['--input-type=module', '-e', child, lockModule, dir, cs, useLock ? '1' : '0', die ? '1' : '0']);
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d));
        p.stderr.on('data', (d: Buffer) => (err += d));
        p.on('error', reject);
        p.on('close', (code, signal) => {
          if (code !== 0 && signal !== 'SIGKILL') return reject(new Error(`child failed (${code}): ${err}`));
          if (signal === 'SIGKILL') sum.killed++;
          for (const l of out.trim().split('\n').filter(Boolean)) {
            const r = JSON.parse(l) as { overlap: number; tookOver: number };
            sum.overlap += r.overlap;
            sum.tookOver += r.tookOver;
          }
          resolve();
        });
      });
    const lanes = Array.from({ length: parallel }, async () => {
      while (started < total) await one();
    });
    await Promise.all(lanes);
    return sum;
  }

  it('control: without the lock the critical section does overlap (the check can fail)', async () => {
    const r = await race(false, 12, 6);
    expect(r.overlap).toBeGreaterThan(0);
  }, 60_000);

  it('with the lock nobody ever overlaps, and killed holders are taken over', async () => {
    const r = await race(true, 45, 6);
    console.log(`lock race: 45 processes, ${r.killed} killed while holding, ${r.tookOver} take-overs of a dead holder's section, ${r.overlap} overlaps`);
    expect(r.killed).toBe(15);
    expect(r.tookOver).toBeGreaterThanOrEqual(10);
    expect(r.overlap).toBe(0);
  }, 120_000);
});
