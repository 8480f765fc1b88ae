/**
 * `linkcheck undo JOURNAL` after `--fix --journal JOURNAL`: texts, owners and mtimes come back
 * (mtimes compared to the microsecond); `undo --dry-run` says what it would do and changes
 * nothing; a link whose text changed after the fix is skipped and named; a second undo restores
 * nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { diffSnapshots, isRoot, removeDir, snapshot, tempDir } from '../support/disk.js';

interface LinkState {
  text: string;
  uid: number;
  gid: number;
  /** mtime in microseconds. */
  mtimeUs: bigint;
}

function state(p: string): LinkState {
  const s = fs.lstatSync(p, { bigint: true });
  if (!s.isSymbolicLink()) throw new Error(`${p} is not a symlink`);
  return { text: fs.readlinkSync(p), uid: Number(s.uid), gid: Number(s.gid), mtimeUs: s.mtimeNs / 1000n };
}

/**
 * The links: owners of all sorts (root, nobody, unnamed ids, uid != gid) and mtimes with
 * sub-second parts, some on an exact microsecond (what tar, rsync and utimes(2) leave), some
 * with nanoseconds. `touch -h` sets the link's own mtime with full nanoseconds.
 */
const LINKS: { name: string; uid: number; gid: number; mtime: string }[] = [
  { name: 'root-owned', uid: 0, gid: 0, mtime: '1600000000.015838000' },
  { name: 'nobody', uid: 65534, gid: 65534, mtime: '1600000001.023757000' },
  { name: 'uid1000', uid: 1000, gid: 1000, mtime: '1500000000.039595000' },
  { name: 'mixed', uid: 12345, gid: 54321, mtime: '1234567890.123456789' },
  { name: 'low-ids', uid: 1, gid: 2, mtime: '1700000000.000001000' },
  { name: 'late', uid: 4242, gid: 0, mtime: '2000000000.999999999' },
  { name: 'half', uid: 0, gid: 65534, mtime: '1650000000.500000000' },
  { name: 'tampered', uid: 3000, gid: 3000, mtime: '1610000000.654321000' },
];

const reason = !isRoot() ? 'setting arbitrary link owners needs root' : null;

describe.skipIf(reason !== null)(`undo restores texts, owners and mtimes${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let base = '';
  let R = '';
  let J = '';
  const original = new Map<string, LinkState>();
  const fixed = new Map<string, LinkState>();
  const path = (name: string): string => `${R}/app/links/${name}`;

  beforeAll(() => {
    ensureBuilt();
    base = tempDir('undo');
    R = `${base}/jail`;
    J = `${base}/journal.ndjson`;
    fs.mkdirSync(`${R}/app/links`, { recursive: true });
    fs.mkdirSync(`${R}/data`);
    for (const l of LINKS) {
      fs.writeFileSync(`${R}/data/${l.name}`, l.name);
      // Host-absolute texts into the root: each one is fixable.
      fs.symlinkSync(`${R}/data/${l.name}`, path(l.name));
      fs.lchownSync(path(l.name), l.uid, l.gid);
      const t = spawnSync('touch', ['-h', '-m', '-d', `@${l.mtime}`, path(l.name)], { encoding: 'utf8' });
      if (t.status !== 0) throw new Error(`touch -h failed: ${t.stderr}`);
      const s = state(path(l.name));
      // The fixture is what it says (to the microsecond).
      expect(s).toEqual({ text: `${R}/data/${l.name}`, uid: l.uid, gid: l.gid, mtimeUs: BigInt(l.mtime.replace('.', '')) / 1000n });
      original.set(l.name, s);
    }
  });

  afterAll(() => removeDir(base));

  it('--fix --journal rewrites every link, keeping owner and mtime, and journals each change', () => {
    const r = spawnCli([`${R}/app`, '--root', R, '--fix', '--journal', J]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    // One line per change, between the run's begin and end records.
    const journal = fs.readFileSync(J, 'utf8').trim().split('\n').filter((l) => l.startsWith('{"path":'));
    expect(journal).toHaveLength(LINKS.length);
    for (const l of LINKS) {
      const s = state(path(l.name));
      expect(s.text).toBe(`../../data/${l.name}`);
      expect({ uid: s.uid, gid: s.gid, mtimeUs: s.mtimeUs }, `${l.name}: owner and mtime kept by the fix`).toEqual({
        uid: l.uid,
        gid: l.gid,
        mtimeUs: original.get(l.name)!.mtimeUs,
      });
      fixed.set(l.name, s);
    }
  });

  it('undo --dry-run says what it would do and changes nothing', () => {
    // A link changed after the fix: undo must leave it and say so.
    fs.unlinkSync(path('tampered'));
    fs.symlinkSync('../../data/changed-by-hand', path('tampered'));
    const before = snapshot(base);
    const r = spawnCli(['undo', J, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    for (const l of LINKS) {
      if (l.name === 'tampered') continue;
      expect(r.stdout).toContain(`would restore ${path(l.name)}: ../../data/${l.name} -> ${R}/data/${l.name}`);
    }
    expect(r.stdout).toMatch(new RegExp(`skipped ${path('tampered')}: .*changed-by-hand`));
    expect(r.stdout).toMatch(new RegExp(`would restore ${LINKS.length - 1}, skipped 1 of ${LINKS.length} journal entries`));
    expect(diffSnapshots(before, snapshot(base))).toEqual([]);
  });

  it('undo restores texts, owners and mtimes, and skips (and names) the link changed after the fix', () => {
    const r = spawnCli(['undo', J]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const l of LINKS) {
      if (l.name === 'tampered') continue;
      expect(state(path(l.name)), `${l.name} after undo`).toEqual(original.get(l.name));
      expect(r.stdout).toContain(`restored ${path(l.name)}`);
    }
    expect(fs.readlinkSync(path('tampered'))).toBe('../../data/changed-by-hand');
    expect(r.stdout).toMatch(new RegExp(`skipped ${path('tampered')}: .*changed-by-hand`));
    expect(r.stdout).toMatch(new RegExp(`restored ${LINKS.length - 1}, skipped 1 of ${LINKS.length} journal entries`));
    expect(fs.readdirSync(`${R}/app/links`).sort()).toEqual(LINKS.map((l) => l.name).sort());
  });

  it('a second undo restores nothing', () => {
    const before = snapshot(base);
    const r = spawnCli(['undo', J]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`restored 0, skipped ${LINKS.length} of ${LINKS.length} journal entries`));
    expect(r.stdout).not.toMatch(/^restored \//m);
    expect(diffSnapshots(before, snapshot(base))).toEqual([]);
  });
});
