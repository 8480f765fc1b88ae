/**
 * A journal that cannot be written stops the fixer before the next rename, with exit 2 and one
 * line on stderr: nothing is changed without its whole journal line. Faults: /dev/full (ENOSPC
 * on the first line), and a file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored, as a full
 * disk does it) that cuts a line short in the middle of a run: the short write is a failed write,
 * the links changed are exactly the journal's whole lines, the torn tail is ignored by undo,
 * and undo puts back exactly what was changed. And a real full disk: a 16 KiB tmpfs (root only).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/fix/journal.js';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { jail, links, removeDir, tempLinks } from '../support/disk.js';

const LINKS = 200;
let base = '';
let R = '';
let app = '';
let locks = '';
let n = 0;

function reset(): void {
  for (let i = 0; i < LINKS; i++) {
    fs.rmSync(`${app}/l${i}`, { force: true });
    fs.symlinkSync(`${R}/data/f${i}`, `${app}/l${i}`);
  }
}

const run = (args: string[], limitKiB?: number): ReturnType<typeof spawnCli> => spawnCli(args, { env: { LINKCHECK_LOCK_DIR: locks }, ...(limitKiB !== undefined ? { limitKiB } : {}) });

const relative = (): string[] => [...links(app)].filter(([, t]) => !t.startsWith('/')).map(([p]) => p);

beforeAll(() => {
  ensureBuilt();
  ({ base, R, app, locks } = jail('journal-failure'));
  for (let i = 0; i < LINKS; i++) fs.writeFileSync(`${R}/data/f${i}`, `${i}`);
});
afterAll(() => removeDir(base));

describe('a journal that cannot be written', () => {
  it.each(['1', '2'])('/dev/full: exit 2, one line, nothing changed (-j %s)', (jobs) => {
    reset();
    const before = new Map(links(app));
    const r = run([app, '--root', R, '--fix', '--journal', '/dev/full', '-j', jobs]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^linkcheck: cannot write the journal \/dev\/full \(ENOSPC\): stopped before changing \S+; 0 links changed before that/);
    expect(r.stdout).toBe('');
    expect(new Map(links(app))).toEqual(before);
    expect(tempLinks(app)).toEqual([]);
  });

  it('cut short in the middle of a run: the changes are exactly the whole lines, and undo takes them back', () => {
    reset();
    const j = `${base}/j${n++}`;
    const r = run([app, '--root', R, '--fix', '--quiet', '--journal', j], 16);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot write the journal .* \((short write: \d+ of \d+ bytes|EFBIG)\): stopped before changing/);
    const size = fs.statSync(j).size;
    expect(size).toBe(16 * 1024);
    const { entries, torn } = readJournal(j);
    // The limit fell inside a line (else this proves nothing about torn lines).
    expect(fs.readFileSync(j, 'utf8').endsWith('\n')).toBe(false);
    expect(torn).toBe(1);
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.length).toBeLessThan(LINKS);
    expect(relative().sort()).toEqual(entries.map((e) => e.path).sort());
    expect(r.stderr).toContain(`; ${entries.length} links changed before that, each journaled`);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('fixed '))).toHaveLength(0); // no report after a failure
    expect(tempLinks(app)).toEqual([]);

    // A later run appends after the torn piece; every whole line still reads.
    const rest = run([app, '--root', R, '--fix', '--quiet', '--journal', j]);
    expect(rest.code, rest.stderr).toBe(0);
    expect(relative()).toHaveLength(LINKS);
    const after = readJournal(j);
    expect(after.entries).toHaveLength(LINKS);
    expect(after.torn).toBe(1);

    const undo = run(['undo', j]);
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout).toMatch(new RegExp(`restored ${LINKS}, skipped 0 of ${LINKS} journal entries\nignored 1 torn journal line`));
    expect(relative()).toEqual([]);
  });
});

describe('a journal on a disk that fills up (tmpfs)', () => {
  let mnt = '';
  let why: string | null = null;
  beforeAll(() => {
    mnt = fs.mkdtempSync(`${base}/tmpfs-`);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (r.status !== 0) why = `cannot mount a tmpfs: ${r.stderr.trim() || r.error?.message}`;
    if (why && process.env.CI === 'true') throw new Error(why);
  });
  afterAll(() => {
    if (!why) spawnSync('umount', [mnt]);
  });

  it('stops with exit 2 and one line; the links changed are exactly the journal\'s whole lines', (ctx) => {
    if (why) return ctx.skip(why);
    reset();
    const j = `${mnt}/journal`;
    const r = run([app, '--root', R, '--fix', '--quiet', '--journal', j]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot write the journal .* \((ENOSPC|short write: \d+ of \d+ bytes)\): stopped before changing/);
    const { entries } = readJournal(j);
    expect(entries.length).toBeGreaterThan(10);
    expect(relative().sort()).toEqual(entries.map((e) => e.path).sort());
    expect(tempLinks(app)).toEqual([]);
  });
});
