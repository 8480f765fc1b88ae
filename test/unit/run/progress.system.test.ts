import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../support/build.js';
import { besideProgress, eraseText, Progress, progressDelay, progressWanted, redrawText, renderProgress } from '../../../src/run/progress.js';
import { memFsPort, type NodeLikeFs } from '../../../src/core/fs-port.js';
import { createFsFromVolume, Volume } from 'memfs';
import { diskSandbox } from '../../support/sandbox.js';
import { REPO } from '../../support/repo.js';

const repo = REPO;
const bin = path.join(repo, 'bin', 'linkcheck.js');

describe('when progress is drawn', () => {
  const person = { stderrIsTTY: true, env: {}, quiet: false, format: 'pretty' };
  it('only for a person at a terminal with the pretty format', () => {
    expect(progressWanted(person)).toBe(true);
    expect(progressWanted({ ...person, stderrIsTTY: false })).toBe(false);
    expect(progressWanted({ ...person, env: { CI: 'true' } })).toBe(false);
    expect(progressWanted({ ...person, env: { CI: '' } })).toBe(false);
    expect(progressWanted({ ...person, quiet: true })).toBe(false);
    for (const format of ['json', 'ndjson', 'compact']) expect(progressWanted({ ...person, format })).toBe(false);
  });

  it('after half a second, or LINKCHECK_PROGRESS_DELAY seconds', () => {
    expect(progressDelay({})).toBe(500);
    expect(progressDelay({ LINKCHECK_PROGRESS_DELAY: '0' })).toBe(0);
    expect(progressDelay({ LINKCHECK_PROGRESS_DELAY: '1.5' })).toBe(1500);
    expect(progressDelay({ LINKCHECK_PROGRESS_DELAY: 'soon' })).toBe(500);
    expect(progressDelay({ LINKCHECK_PROGRESS_DELAY: '-1' })).toBe(500);
  });
});

describe('the progress line', () => {
  it('says entries walked, links judged and the rate, grouped the same on every locale', () => {
    expect(renderProgress({ entries: 1234567, links: 89012 }, 2000)).toBe('linkcheck: 1,234,567 entries walked, 89,012 links judged (617,284 entries/s)');
    expect(renderProgress({ entries: 0, links: 0 }, 0)).toBe('linkcheck: 0 entries walked, 0 links judged (0 entries/s)');
  });

  it('is redrawn over the old one and erased with \\r and spaces only', () => {
    expect(redrawText('abc', 5)).toBe('\rabc  ');
    expect(redrawText('abcdef', 3)).toBe('\rabcdef');
    expect(eraseText(4)).toBe('\r    \r');
    expect(eraseText(0)).toBe('');
  });

  /** A Progress on a fake clock, with what it wrote and how often it read the clock. */
  function fake(options: { delay?: number; interval?: number; every?: number; columns?: number } = {}) {
    let t = 0;
    let reads = 0;
    const out: string[] = [];
    const p = new Progress((s) => out.push(s), {
      ...options,
      now: () => {
        reads++;
        return t;
      },
    });
    return { p, out, advance: (ms: number) => (t += ms), reads: () => reads };
  }

  it('appears only after the delay, is redrawn at most every interval, and reads the clock only every N entries', () => {
    const f = fake({ delay: 500, interval: 200, every: 100 });
    const startReads = f.reads();
    for (let i = 0; i < 99; i++) f.p.tick(1);
    expect(f.reads()).toBe(startReads);
    f.p.tick(1);
    expect(f.reads()).toBe(startReads + 1);
    expect(f.out).toEqual([]); // before the delay
    f.advance(499);
    f.p.tick(100);
    expect(f.out).toEqual([]);
    f.advance(1);
    f.p.tick(100);
    expect(f.out).toHaveLength(1);
    expect(f.out[0]).toMatch(/^\rlinkcheck: 0 entries walked, 0 links judged/);
    f.advance(199);
    f.p.tick(100);
    expect(f.out).toHaveLength(1);
    f.advance(1);
    f.p.tick(100);
    expect(f.out).toHaveLength(2);
    f.p.erase();
    expect(f.out[2]).toBe(eraseText(f.out[1]!.length - 1));
    f.p.erase();
    expect(f.out).toHaveLength(3); // nothing on screen, nothing to erase
  });

  it('counts what the walk reads through the file system port, and links judged when told', () => {
    const vfs = createFsFromVolume(new Volume());
    vfs.mkdirSync('/t/d', { recursive: true });
    for (let i = 0; i < 5; i++) vfs.writeFileSync(`/t/d/f${i}`, '');
    vfs.symlinkSync('f0', '/t/d/l');
    const f = fake({ delay: 0, interval: 0, every: 1 });
    const fs = f.p.meter(memFsPort(vfs as unknown as NodeLikeFs));
    expect(fs.readdir('/t/d')).toHaveLength(6);
    expect(fs.readlink('/t/d/l')).toBe('f0');
    expect(fs.real).toBe(false);
    expect(fs.kind('/t/d/l')).toBe('link');
    f.advance(1000);
    f.p.tick(1);
    expect(f.out.at(-1)).toMatch(/^\rlinkcheck: 6 entries walked, 1 links judged \(6 entries\/s\)/);
    f.p.judged = () => 42;
    f.p.tick(1);
    expect(f.out.at(-1)).toMatch(/6 entries walked, 42 links judged/);
  });

  it('is silent while paused and starts over on restart', () => {
    const f = fake({ delay: 100, interval: 0, every: 1 });
    f.advance(200);
    f.p.tick(1);
    expect(f.out).toHaveLength(1);
    f.p.pause();
    expect(f.out).toHaveLength(2); // erased
    f.advance(200);
    f.p.tick(1);
    expect(f.out).toHaveLength(2);
    f.p.restart();
    f.p.tick(1);
    expect(f.out).toHaveLength(2); // the delay again
    f.advance(100);
    f.p.tick(1);
    expect(f.out).toHaveLength(3);
  });

  it('is cut to the terminal width, since a wrapped line cannot be redrawn in place', () => {
    const f = fake({ delay: 0, interval: 0, every: 1, columns: 30 });
    f.p.tick(1);
    expect(f.out[0]).toBe('\r' + renderProgress({ entries: 0, links: 0 }, 1).slice(0, 29));
  });
});

describe('a report written beside the line', () => {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-progress-'));
  afterAll(() => nodeFs.rmSync(dir, { recursive: true, force: true }));

  it('erases the line first (under the lock), then writes; without a line it only writes', () => {
    const errFile = path.join(dir, 'stderr');
    const fd = nodeFs.openSync(errFile, 'w');
    try {
      const p = new Progress((s) => nodeFs.writeSync(fd, s), { delay: 0, interval: 0, every: 1 });
      const written: string[] = [];
      const write = besideProgress((b) => written.push(b.toString()), p.lock, fd);
      p.tick(1);
      write(Buffer.from('report\n'));
      write(Buffer.from('more\n'));
      expect(written).toEqual(['report\n', 'more\n']);
      const err = nodeFs.readFileSync(errFile, 'utf8');
      const line = renderProgress({ entries: 0, links: 0 }, 0).length;
      expect(err.startsWith('\rlinkcheck: ')).toBe(true);
      expect(err.endsWith(eraseText(line))).toBe(true);
      expect(err.split(eraseText(line))).toHaveLength(2); // erased once: the second write found nothing on screen
      expect(besideProgress(write, undefined)).toBe(write);
    } finally {
      nodeFs.closeSync(fd);
    }
  });
});

/** What a terminal shows after `raw`: \r returns to the line's start, characters overwrite (colours dropped). */
function screen(raw: string): string[] {
  const lines: string[] = [];
  let cur: string[] = [];
  let col = 0;
  for (const ch of raw) {
    if (ch === '\n') {
      lines.push(cur.join('').trimEnd());
      cur = [];
      col = 0;
    } else if (ch === '\r') col = 0;
    else {
      cur[col++] = ch;
    }
  }
  lines.push(cur.join('').trimEnd());
  return lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
}

describe('on a real terminal (script from util-linux gives the run a pseudo-terminal)', () => {
  const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
  const missing = script.status !== 0 ? 'script (util-linux) is not installed' : null;
  if (missing && process.env.CI) it('needs script(1) from util-linux', () => expect.fail(missing));
  const run = !missing ? it : it.skip;
  beforeAll(() => ensureBuilt());

  // 40 directories of 300 files and 50 links: a walk long past the 512 entries between looks at the clock.
  const tree: Record<string, unknown> = {};
  for (let d = 0; d < 40; d++) {
    const dir: Record<string, unknown> = {};
    for (let f = 0; f < 300; f++) dir[`f${f}`] = '';
    for (let l = 0; l < 50; l++) dir[`l${l}`] = { link: l % 2 ? `../d${(d + 1) % 40}/f${l}` : `/nowhere/${l}` };
    tree[`d${d}`] = dir;
  }
  const sb = diskSandbox({ jail: tree } as never);
  afterAll(() => sb.cleanup());
  const root = `${sb.base}/jail`;
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const underTerminal = (args: string[], env: Record<string, string>, redirect = ''): string => {
    const cmd = [process.execPath, bin, ...args].map(quote).join(' ') + redirect;
    // CI set at all (even empty) means CI: this run is a person's unless `env` says otherwise.
    const { CI: _ci, ...rest } = process.env;
    const r = spawnSync('script', ['-qefc', cmd, '/dev/null'], { encoding: 'utf8', env: { ...rest, ...env }, maxBuffer: 1 << 26 });
    return r.stdout;
  };

  run.each(['1', '2'])('-j %s: the line appears, is redrawn in place and is gone at the end', (j) => {
    const raw = underTerminal([root, '--root', root, '--fail-on', 'never', '--all', '-j', j], { LINKCHECK_PROGRESS_DELAY: '0' });
    expect(raw).toMatch(/\rlinkcheck: [\d,]+ entries walked, [\d,]+ links judged \([\d,]+ entries\/s\)/);
    const shown = screen(raw);
    expect(shown.some((l) => l.includes('entries walked'))).toBe(false);
    expect(shown.filter((l) => / -> \/nowhere\/\d+: dangles in the jail/.test(l))).toHaveLength(1000);
    expect(shown.some((l) => l.startsWith('✖ 1000 of 2000 links have problems'))).toBe(true);
  }, 60_000);

  run('never in CI, with --quiet, a machine format, or stderr in a pipe', () => {
    const env = { LINKCHECK_PROGRESS_DELAY: '0' };
    const args = [root, '--root', root, '--fail-on', 'never'];
    expect(underTerminal(args, env)).toContain('entries walked'); // the positive control
    expect(underTerminal(args, { ...env, CI: 'true' })).not.toContain('entries walked');
    expect(underTerminal([...args, '--quiet'], env)).not.toContain('entries walked');
    for (const format of ['json', 'ndjson', 'compact']) expect(underTerminal([...args, '--format', format], env)).not.toContain('entries walked');
    expect(underTerminal(args, env, ' 2>/dev/null')).not.toContain('entries walked');
  }, 60_000);
});
