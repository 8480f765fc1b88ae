/**
 * A planned link that is no longer that link when the fixer comes to it (a regular file, a
 * directory, a FIFO, or a link with another text) is skipped with a reason and left exactly as
 * it is; no temporary link is left behind. Checked for a change made between the plan and
 * applyFixes (real disk, chdir gate), and for one made inside the swap itself, after the
 * temporary link exists and before the rename (through an fs port that injects the change).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.js';
import { type FsPort, nodeFsPort } from '../../src/core/fs-port.js';
import { applyFixes } from '../../src/fix/apply.js';
import type { AppliedChange } from '../../src/fix/applied-change.js';
import { fixPlanner } from '../../src/fix/planner.js';
import { removeDir, TEMP_RE, tempDir, tempLinks } from '../support/disk.js';

type Kind = 'file' | 'dir' | 'fifo' | 'other-link';
const KINDS: Kind[] = ['file', 'dir', 'fifo', 'other-link'];

/** Puts a `kind` entry where the link `p` is. */
function replace(p: string, kind: Kind): void {
  fs.unlinkSync(p);
  if (kind === 'file') fs.writeFileSync(p, `${p} is a file now\n`);
  else if (kind === 'dir') {
    fs.mkdirSync(p);
    fs.writeFileSync(`${p}/inner`, 'inside\n');
  } else if (kind === 'fifo') {
    const r = spawnSync('mkfifo', [p], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  } else fs.symlinkSync('somewhere/else', p);
}

/** What the entry at `p` is now, in enough detail to see it was not touched. */
/**
 * The real disk seen through a path gate (not `real`, so every fixer step goes through this
 * port) with a hook: once armed, `hook(p)` runs right after each lstat of `p` answers, in the
 * window between the fixer's lstat and its readlink.
 */
function afterLstat(hook: (p: string) => void): { port: FsPort; arm(): void } {
  const base = nodeFsPort();
  let armed = false;
  const port: FsPort = {
    ...base,
    real: false,
    lstat(p) {
      const s = base.lstat(p);
      if (armed) hook(p);
      return s;
    },
  };
  return {
    port,
    arm() {
      armed = true;
    },
  };
}

function describeEntry(p: string): string {
  const s = fs.lstatSync(p, { bigint: true });
  if (s.isFile()) return `file ino=${s.ino} ${fs.readFileSync(p, 'utf8')}`;
  if (s.isDirectory()) return `dir ino=${s.ino} [${fs.readdirSync(p).join(',')}]`;
  if (s.isFIFO()) return `fifo ino=${s.ino}`;
  if (s.isSymbolicLink()) return `link ino=${s.ino} -> ${fs.readlinkSync(p)}`;
  return `other ino=${s.ino}`;
}

const EXPECTED_KIND: Record<Kind, RegExp> = { file: /^file /, dir: /^dir .*\[inner\]$/, fifo: /^fifo /, 'other-link': /^link .* -> somewhere\/else$/ };

describe('the fixer never replaces what is no longer the planned link', () => {
  let R = '';
  beforeEach(() => {
    R = tempDir('nonlink');
    fs.mkdirSync(`${R}/target`);
    fs.writeFileSync(`${R}/target/f`, 'the target\n');
  });
  afterEach(() => removeDir(R));

  const plan = (fsPort?: FsPort): Auditor => {
    const a = new Auditor({ paths: [`${R}/links`], root: R, fs: fsPort }, fixPlanner());
    for (const _ of a.events());
    return a;
  };

  const byPath = (changes: AppliedChange[]): Map<string, AppliedChange> => new Map(changes.map((c) => [c.path, c]));

  it('changed between the plan and applyFixes: file, directory, FIFO, other link text', async () => {
    fs.mkdirSync(`${R}/links`);
    for (const k of [...KINDS, 'control']) fs.symlinkSync(`${R}/target/f`, `${R}/links/${k}`);
    const a = plan();
    expect(a.fixes.map((f) => f.path).sort()).toEqual([...KINDS, 'control'].map((k) => `${R}/links/${k}`).sort());
    for (const f of a.fixes) expect(f.target).toBe('../target/f');

    const after = new Map<string, string>();
    for (const k of KINDS) {
      replace(`${R}/links/${k}`, k);
      after.set(k, describeEntry(`${R}/links/${k}`));
      expect(after.get(k)).toMatch(EXPECTED_KIND[k]);
    }
    const cwd = process.cwd();
    const changes = byPath(await applyFixes(a.settings, a.fixes));
    expect(process.cwd()).toBe(cwd);

    for (const k of KINDS) {
      const c = changes.get(`${R}/links/${k}`);
      expect(c, k).toBeDefined();
      expect(c!.status, `${k}: ${c!.reason}`).toBe('skipped');
      expect(c!.reason, k).toMatch(k === 'other-link' ? /changed since the scan/ : /no longer a symlink/);
      expect(describeEntry(`${R}/links/${k}`), `${k} was touched`).toBe(after.get(k));
    }
    // The untouched control link shows the run did fix what it could.
    expect(changes.get(`${R}/links/control`)).toMatchObject({ status: 'changed', reason: null, new: '../target/f' });
    expect(fs.readlinkSync(`${R}/links/control`)).toBe('../target/f');
    expect(tempLinks(R)).toEqual([]);
  });

  it('changed inside the swap, after the temporary link exists: file, directory, FIFO, other link text', async () => {
    // One link per directory, so the temporary link's directory says which link it is for.
    for (const k of [...KINDS, 'control']) {
      fs.mkdirSync(`${R}/links/${k}`, { recursive: true });
      fs.symlinkSync(`${R}/target/f`, `${R}/links/${k}/link`);
    }
    const base = nodeFsPort();
    const injected = new Set<string>();
    const after = new Map<string, string>();
    let armed = false;
    // Not `real`: the fixer uses its path gate, and every write goes through this port.
    const port: FsPort = {
      ...base,
      real: false,
      symlink(text, p) {
        base.symlink(text, p);
        const name = p.slice(p.lastIndexOf('/') + 1);
        const dir = p.slice(0, p.lastIndexOf('/'));
        const k = dir.slice(dir.lastIndexOf('/') + 1) as Kind;
        if (armed && TEMP_RE.test(name) && (KINDS as string[]).includes(k) && !injected.has(k)) {
          injected.add(k);
          replace(`${dir}/link`, k);
          after.set(k, describeEntry(`${dir}/link`));
        }
      },
    };
    const a = plan(port);
    expect(a.fixes).toHaveLength(KINDS.length + 1);
    armed = true;
    const changes = byPath(await applyFixes(a.settings, a.fixes));

    expect([...injected].sort()).toEqual([...KINDS].sort());
    for (const k of KINDS) {
      const c = changes.get(`${R}/links/${k}/link`);
      expect(c?.status, `${k}: ${c?.reason}`).toBe('skipped');
      expect(c!.reason, k).toMatch(/changed while being fixed/);
      expect(describeEntry(`${R}/links/${k}/link`), `${k} was touched`).toBe(after.get(k));
    }
    expect(changes.get(`${R}/links/control/link`)).toMatchObject({ status: 'changed', new: '../../target/f' });
    expect(tempLinks(R)).toEqual([]);
  });

  it("changed between the fixer's lstat and its readlink: file, directory, FIFO, other link text, gone", async () => {
    const kinds = [...KINDS, 'gone'] as const;
    fs.mkdirSync(`${R}/links`);
    for (const k of [...kinds, 'control']) fs.symlinkSync(`${R}/target/f`, `${R}/links/${k}`);
    const after = new Map<string, string>();
    // The change lands right after the fixer's first lstat of the link says "a symlink".
    const hooked = afterLstat((p) => {
      const k = p.slice(p.lastIndexOf('/') + 1);
      if (!(kinds as readonly string[]).includes(k) || after.has(k)) return;
      if (k === 'gone') fs.unlinkSync(p);
      else replace(p, k as Kind);
      after.set(k, k === 'gone' ? 'gone' : describeEntry(p));
    });
    const port = hooked.port;
    const a = plan(port);
    expect(a.fixes).toHaveLength(kinds.length + 1);
    hooked.arm();
    // A concurrent change to one link must not abort the run: it is that link's skip.
    const changes = byPath(await applyFixes(a.settings, a.fixes));
    for (const k of kinds) {
      const c = changes.get(`${R}/links/${k}`);
      expect(c?.status, `${k}: ${c?.reason}`).toBe('skipped');
      expect(c!.reason, k).toBeTruthy();
      if (k === 'gone') expect(fs.existsSync(`${R}/links/${k}`)).toBe(false);
      else expect(describeEntry(`${R}/links/${k}`), `${k} was touched`).toBe(after.get(k));
    }
    expect(changes.get(`${R}/links/control`)).toMatchObject({ status: 'changed', new: '../target/f' });
    expect(tempLinks(R)).toEqual([]);
  });

  it('a leftover temporary link removed or replaced by someone else meanwhile (another --fix run) does not abort the run', async () => {
    fs.mkdirSync(`${R}/links`);
    fs.symlinkSync(`${R}/target/f`, `${R}/links/control`);
    // Leftovers of a run that is over (pid 0 is never a process's).
    const gone = `${R}/links/.linkcheck-tmp.0.1.0`;
    const file = `${R}/links/.linkcheck-tmp.0.1.1`;
    fs.symlinkSync('../target/f', gone);
    fs.symlinkSync('../target/f', file);
    const hit = new Set<string>();
    const hooked = afterLstat((p) => {
      if ((p !== gone && p !== file) || hit.has(p)) return;
      hit.add(p);
      fs.unlinkSync(p);
      if (p === file) fs.writeFileSync(p, 'not a link any more\n');
    });
    const a = plan(hooked.port);
    expect([...a.leftovers].sort()).toEqual([gone, file].sort());
    hooked.arm();
    const changes = await applyFixes(a.settings, a.fixes, { leftovers: a.leftovers });
    expect(hit.size).toBe(2);
    expect(byPath(changes).get(`${R}/links/control`)).toMatchObject({ status: 'changed' });
    expect(fs.existsSync(gone)).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe('not a link any more\n');
  });
});
