/**
 * `--output FILE`: the report appears whole or not at all. A poller reading the file as fast as
 * it can never sees a part of it (and, as a control, does see parts when the same report is
 * written with a shell redirect). Every format, -j 1 and -j 2, writes the same bytes as stdout
 * would. A write error (a file-size limit: EFBIG; a directory that vanished) is one line on
 * stderr and exit 2, and the previous file is left as it was, with no temporary file beside it.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutputError } from '../../../src/core/errors.js';
import { OutputFile } from '../../../src/cli/output-file.js';
import { ensureBuilt } from '../../support/build.js';
import { spawnCli } from '../../support/cli.js';
import { jail, removeDir } from '../../support/disk.js';
import { BIN } from '../../support/repo.js';

let base = '';
let R = '';
let app = '';
let n = 0;
const LINKS = 3000;

beforeAll(() => {
  ensureBuilt();
  ({ base, R, app } = jail('output'));
  for (let d = 0; d < 30; d++) fs.mkdirSync(`${app}/d${d}`, { recursive: true });
  for (let i = 0; i < LINKS; i++) {
    if (i < 100) fs.writeFileSync(`${R}/data/f${i}`, '');
    // Absolute links (fixable) and some that dangle: a report with every kind of line.
    fs.symlinkSync(i % 10 === 0 ? `/nowhere/${i}` : `${R}/data/f${i % 100}`, `${app}/d${i % 30}/l${i}`);
  }
});
afterAll(() => removeDir(base));

const run = (args: string[], limitKiB?: number): ReturnType<typeof spawnCli> => spawnCli(args, limitKiB !== undefined ? { limitKiB } : {});

const dirOf = (): string => {
  const d = `${base}/out${n++}`;
  fs.mkdirSync(d);
  return d;
};

describe('OutputFile', () => {
  it('replaces the file whole, keeping its mode; the temporary file sits beside it until then', () => {
    const d = dirOf();
    fs.writeFileSync(`${d}/r.json`, 'previous');
    fs.chmodSync(`${d}/r.json`, 0o640);
    const o = new OutputFile(`${d}/r.json`);
    o.write('new ');
    o.write('report');
    expect(fs.readFileSync(`${d}/r.json`, 'utf8')).toBe('previous');
    expect(fs.readdirSync(d).filter((f) => f.startsWith('.r.json.tmp-'))).toHaveLength(1);
    o.commit();
    expect(fs.readFileSync(`${d}/r.json`, 'utf8')).toBe('new report');
    expect(fs.statSync(`${d}/r.json`).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(d)).toEqual(['r.json']);
  });

  it('abandon leaves the previous file as it was and removes the temporary file', () => {
    const d = dirOf();
    fs.writeFileSync(`${d}/r.txt`, 'previous');
    const o = new OutputFile(`${d}/r.txt`);
    o.write('half a rep');
    o.abandon();
    expect(fs.readFileSync(`${d}/r.txt`, 'utf8')).toBe('previous');
    expect(fs.readdirSync(d)).toEqual(['r.txt']);
  });

  it('replaces a symlink at the path, never writing where it points', () => {
    const d = dirOf();
    fs.writeFileSync(`${d}/precious`, 'keep me');
    fs.symlinkSync(`${d}/precious`, `${d}/r.json`);
    const o = new OutputFile(`${d}/r.json`);
    o.write('{}');
    o.commit();
    expect(fs.readFileSync(`${d}/precious`, 'utf8')).toBe('keep me');
    expect(fs.lstatSync(`${d}/r.json`).isFile()).toBe(true);
  });

  it('a directory that vanished before the rename is an OutputError, not a crash', () => {
    const d = dirOf();
    const o = new OutputFile(`${d}/r.json`);
    o.write('{}');
    fs.rmSync(d, { recursive: true });
    expect(() => o.commit()).toThrow(OutputError);
    expect(fs.existsSync(d)).toBe(false);
    // And one that is missing from the start.
    expect(() => new OutputFile(`${d}/r.json`)).toThrow(/ENOENT/);
  });
});

describe('--output', () => {
  it.each(['pretty', 'json', 'ndjson'])('%s: the file holds what stdout would, byte for byte, with -j 1 and -j 2', (format) => {
    const d = dirOf();
    // --all: the whole pretty report, big enough to be written in many pieces.
    const plain = run([app, '--root', R, '--format', format, '-j', '1', '--all']);
    expect(plain.code).toBe(1);
    expect(plain.stdout.length).toBeGreaterThan(10_000);
    for (const jobs of ['1', '2']) {
      const r = run([app, '--root', R, '--format', format, '-j', jobs, '--all', '--output', `${d}/report`]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(fs.readFileSync(`${d}/report`, 'utf8'), `-j ${jobs}`).toBe(plain.stdout);
      expect(fs.readdirSync(d)).toEqual(['report']);
    }
  });

  it('a pipe at the path is written in place and stays a pipe (a collector reading a FIFO)', async () => {
    const d = dirOf();
    const fifo = `${d}/fifo`;
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = spawn('sh', ['-c', `cat "${fifo}" > "${d}/got"`]);
    const done = new Promise<number | null>((resolve) => reader.on('exit', resolve));
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [BIN, app, '--root', R, '--format', 'json', '--output', fifo]);
      let stderr = '';
      c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      c.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(r.code, r.stderr).toBe(1);
    expect(await done).toBe(0);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
    expect(JSON.parse(fs.readFileSync(`${d}/got`, 'utf8')).schemaVersion).toBe(1);
    expect(fs.readdirSync(d).sort()).toEqual(['fifo', 'got']);
  });

  it('a character device at the path (--output /dev/null) is written in place, never replaced by a file', (ctx) => {
    // mknod needs root; outside CI a non-root run skips, saying so.
    if (process.geteuid?.() !== 0 && process.env['CI'] !== 'true') return ctx.skip('mknod of a character device needs root');
    const d = dirOf();
    const dev = `${d}/null`;
    expect(spawnSync('mknod', ['-m', '666', dev, 'c', '1', '3']).status).toBe(0);
    const r = run([app, '--root', R, '--format', 'json', '--output', dev]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    expect(fs.lstatSync(dev).isCharacterDevice()).toBe(true);
    expect(fs.readdirSync(d)).toEqual(['null']);
  });

  it('a relative path is taken from the working directory; a missing directory is exit 2 before anything runs', () => {
    const d = dirOf();
    const r = spawnCli([app, '--root', R, '--format', 'json', '--output', 'rel.json'], { cwd: d });
    expect(r.code).toBe(1);
    expect(JSON.parse(fs.readFileSync(`${d}/rel.json`, 'utf8')).schemaVersion).toBe(1);
    const bad = run([app, '--root', R, '--fix', '--output', `${d}/missing/r.json`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^linkcheck: cannot write the report to .*missing\/r.json \(ENOENT\)/);
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    // --fix did not run: the links are still absolute.
    expect(fs.readlinkSync(`${app}/d1/l1`)).toBe(`${R}/data/f1`);
  });

  it.each(['1', '2'])('a write error (EFBIG) is exit 2 and one line; the previous file is left as it was (-j %s)', (jobs) => {
    const d = dirOf();
    fs.writeFileSync(`${d}/r.json`, 'the previous report');
    const r = run([app, '--root', R, '--format', 'json', '-j', jobs, '--output', `${d}/r.json`], 64);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^linkcheck: cannot write the report to .*r\.json \(EFBIG\); the previous file there is left as it was$/m);
    expect(fs.readFileSync(`${d}/r.json`, 'utf8')).toBe('the previous report');
    expect(fs.readdirSync(d)).toEqual(['r.json']);
    // Control: without the limit the same run writes the report.
    expect(run([app, '--root', R, '--format', 'json', '-j', jobs, '--output', `${d}/r.json`]).code).toBe(1);
    expect(fs.statSync(`${d}/r.json`).size).toBeGreaterThan(64 * 1024);
  });
});

describe('a reader polling the file', () => {
  const poller = `
    const fs = require('node:fs');
    const [file, stop] = process.argv.slice(1);
    let reads = 0, whole = 0, partial = 0;
    const sizes = new Set();
    while (!fs.existsSync(stop)) {
      let text;
      try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
      reads++;
      try { JSON.parse(text); whole++; sizes.add(text.length); } catch { partial++; }
    }
    process.stdout.write(JSON.stringify({ reads, whole, partial, versions: sizes.size }));
  `;

  /** Polls `file` while `write` runs; returns what the poller saw. */
  async function poll(file: string, write: () => Promise<void>): Promise<{ reads: number; whole: number; partial: number; versions: number }> {
    const stop = `${file}.stop`;
    const p = spawn(process.execPath, ['-e', poller, file, stop]);
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b));
    const closed = new Promise((r) => p.on('close', r));
    await new Promise((r) => setTimeout(r, 200));
    await write();
    fs.writeFileSync(stop, '');
    await closed;
    return JSON.parse(out) as { reads: number; whole: number; partial: number; versions: number };
  }

  const runAsync = (args: string[], shell?: string): Promise<number | null> =>
    new Promise((resolve) => {
      const p = shell ? spawn('bash', ['-c', shell]) : spawn(process.execPath, [BIN, ...args]);
      p.on('close', resolve);
    });

  it('never sees a part of the report written with --output (-j 1 and -j 2, repeatedly)', async () => {
    const d = dirOf();
    const f = `${d}/report.json`;
    let runs = 0;
    const seen = await poll(f, async () => {
      for (let k = 0; k < 6; k++) {
        // Alternate two different reports, so each rename is a real change of content.
        const scan = k % 2 === 0 ? app : `${app}/d${k}`;
        expect(await runAsync([scan, '--root', R, '--format', 'json', '-j', k % 4 < 2 ? '1' : '2', '--output', f])).toBe(1);
        runs++;
      }
    });
    console.log(`output poller: ${runs} runs, ${seen.reads} reads, ${seen.whole} whole, ${seen.partial} partial, ${seen.versions} versions seen`);
    expect(seen.partial).toBe(0);
    expect(seen.whole).toBeGreaterThan(50);
    expect(seen.versions).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('control: the same report written with a shell redirect is seen partial', async () => {
    const d = dirOf();
    const f = `${d}/report.json`;
    let partial = 0;
    for (let k = 0; k < 5 && partial === 0; k++) {
      const seen = await poll(f, async () => {
        await runAsync([], `exec '${process.execPath}' '${BIN}' '${app}' --root '${R}' --format json -j 1 > '${f}'`);
      });
      partial += seen.partial;
    }
    expect(partial).toBeGreaterThan(0);
  }, 60_000);
});

/**
 * A real full disk: a small tmpfs (needs root to mount; in CI a failure to mount fails the test,
 * elsewhere it is skipped with the reason).
 */
describe('a full disk (tmpfs)', () => {
  let mnt = '';
  let why: string | null = null;
  beforeAll(() => {
    mnt = fs.mkdtempSync(`${base}/tmpfs-`);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (r.status !== 0) why = `cannot mount a tmpfs: ${r.stderr.trim() || r.error?.message}`;
    if (why && process.env.CI === 'true') throw new Error(why);
  });
  afterAll(() => {
    if (!why) spawnSync('umount', [mnt]);
  });

  it.for(['1', '2'])('ENOSPC on --output: exit 2, one line, the previous report kept, no temporary file (-j %s)', (jobs, ctx) => {
    if (why) return ctx.skip(why);
    fs.writeFileSync(`${mnt}/r.json`, 'the previous report');
    const r = run([app, '--root', R, '--format', 'json', '-j', jobs, '--output', `${mnt}/r.json`]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^linkcheck: cannot write the report to .*r\.json \(ENOSPC\); the previous file there is left as it was\n$/);
    expect(fs.readFileSync(`${mnt}/r.json`, 'utf8')).toBe('the previous report');
    expect(fs.readdirSync(mnt)).toEqual(['r.json']);
  });
});
