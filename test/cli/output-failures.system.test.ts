/**
 * A report that cannot be written must not pass: a write error on stdout is one line on stderr
 * and exit 2, and a reader that goes away early (`| head`) leaves the exit code the whole check
 * earns, with -j 1 and -j 2 alike. Run through the real binary, with real descriptors.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { removeDir, tempDir } from '../support/disk.js';
import { BIN } from '../support/repo.js';

const LINKS = 3000;
let base = '';

beforeAll(() => {
  ensureBuilt();
  base = tempDir('output');
  for (const [name, text] of [
    ['broken', (i: number) => `/nowhere/${i}`],
    ['clean', (i: number) => `../t/${i}`],
  ] as const) {
    fs.mkdirSync(`${base}/r/${name}`, { recursive: true });
    for (let i = 0; i < LINKS; i++) fs.symlinkSync(text(i), `${base}/r/${name}/l${i}`);
  }
  fs.mkdirSync(`${base}/r/t`);
  for (let i = 0; i < LINKS; i++) fs.writeFileSync(`${base}/r/t/${i}`, '');
}, 60_000);
afterAll(() => removeDir(base));

/** Runs the CLI with stdout on `fd`; returns the exit status and stderr. */
function runTo(fd: number | 'ignore', args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

/** Runs the CLI with stdout on a pipe that is closed after the first chunk, as `| head -c 1` would. */
function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; read: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let read = 0;
    child.stdout.once('data', (b: Buffer) => {
      read = b.length;
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, read }));
  });
}

describe('stdout on a full disk (/dev/full)', () => {
  const full = (): number => fs.openSync('/dev/full', 'w');
  const cases: Array<[string, string[]]> = [
    ['audit -j 1, pretty', ['r/broken', '--root', 'r', '-j', '1']],
    ['audit -j 2, pretty', ['r/broken', '--root', 'r', '-j', '2']],
    ['audit -j 2, json', ['r/broken', '--root', 'r', '-j', '2', '--format', 'json']],
    ['audit -j 1, ndjson of a clean tree', ['r/clean', '--root', 'r', '-j', '1', '--format', 'ndjson']],
    ['rules', ['rules']],
    ['explain', ['explain', 'LC001']],
    ['--help', ['--help']],
  ];
  it.each(cases)('%s: one line on stderr, exit 2', (_what, args) => {
    const fd = full();
    try {
      const r = spawnSync(process.execPath, [BIN, ...args], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', cwd: base });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^linkcheck: cannot write to standard output \(ENOSPC/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      fs.closeSync(fd);
    }
  });

  // (A closed stdout cannot be told from /dev/null: Node opens /dev/null on a closed fd 1 at start.)
  it('control: the same commands with a writable stdout exit 0 and say nothing on stderr', () => {
    const ok = runTo('ignore', ['rules']);
    expect(ok).toEqual({ code: 0, stderr: '' });
  });
});

describe('a reader that goes away early (| head)', () => {
  for (const jobs of ['1', '2']) {
    it(`-j ${jobs}: a broken tree still exits 1, a clean one 0`, async () => {
      const broken = await runIntoClosedPipe([`${base}/r/broken`, '--root', `${base}/r`, '-j', jobs]);
      expect(broken.read).toBeGreaterThan(0);
      expect(broken.code).toBe(1);
      const clean = await runIntoClosedPipe([`${base}/r/clean`, '--root', `${base}/r`, '-j', jobs, '--format', 'json']);
      expect(clean.read).toBeGreaterThan(0);
      expect(clean.code).toBe(0);
    });
  }

  it('under set -o pipefail, `linkcheck | head -1` on a broken tree fails the pipeline', () => {
    for (const jobs of ['1', '2']) {
      const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" r/broken --root r -j ${jobs} | head -1 >/dev/null`], { cwd: base });
      expect(r.status, `-j ${jobs}`).toBe(1);
    }
  });
});
