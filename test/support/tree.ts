/**
 * The one tree builder of the tests: writes a fixtures/tree.ts `Tree` (files, `{ link }`,
 * `{ fifo }`, directories; `{root}` in link texts; `bytes:<hex>` names) under a directory, on the
 * real disk or on memfs, with random-tree.ts's extensions (`{rootname}`, `{byte:XX}`,
 * `{rootmirror}`) on the disk. Also: fresh temp trees and listing a tree's links.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isFifo, isLink, type Tree } from '../../fixtures/tree.js';

export type { Tree } from '../../fixtures/tree.js';

/** The file system surface the builder writes through: node:fs, or memfs (which takes Buffer paths too). */
export interface TreeFs {
  mkdirSync(p: Buffer): unknown;
  writeFileSync(p: Buffer, data: string): void;
  symlinkSync(target: Buffer, p: Buffer): void;
}

/** A link text with `{root}`, `{rootname}` and `{byte:XX}` tokens as the bytes it stands for. */
function textBytes(text: string, base: Buffer): Buffer {
  const baseName = base.subarray(base.lastIndexOf(0x2f) + 1);
  const parts: Buffer[] = [];
  const re = /\{root\}|\{rootname\}|\{byte:([0-9a-f]{2})\}/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'));
    parts.push(m[0] === '{root}' ? base : m[0] === '{rootname}' ? baseName : Buffer.from([parseInt(m[1]!, 16)]));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

function nameBytes(name: string): Buffer {
  return name.startsWith('bytes:') ? Buffer.from(name.slice(6), 'hex') : Buffer.from(name, 'utf8');
}

const join = (dir: Buffer, name: string): Buffer => Buffer.concat([dir, Buffer.from('/'), nameBytes(name)]);

/**
 * Writes `tree` under the existing directory `base` (host path, UTF-8 or byte string), through
 * `into` (node:fs unless given). FIFOs and `{rootmirror}` need the real disk.
 */
export function materialiseTree(base: string | Buffer, tree: Tree, into: TreeFs = fs): void {
  const b = typeof base === 'string' ? Buffer.from(base, 'utf8') : base;
  const fifos: Buffer[] = [];
  const write = (dir: Buffer, t: Tree): void => {
    for (const [name, e] of Object.entries(t)) {
      if (dir === b && name === '{rootmirror}') continue;
      const p = join(dir, name);
      if (typeof e === 'string') into.writeFileSync(p, e);
      else if (isLink(e)) into.symlinkSync(textBytes(e.link, b), p);
      else if (isFifo(e)) fifos.push(p);
      else {
        into.mkdirSync(p);
        write(p, e as Tree);
      }
    }
  };
  write(b, tree);
  const mirror = tree['{rootmirror}'];
  const onDisk = into === fs;
  if ((fifos.length > 0 || mirror !== undefined) && !onDisk) throw new Error('materialiseTree: FIFOs and {rootmirror} need the real disk');
  if (mirror !== undefined && typeof mirror === 'object' && !isLink(mirror) && !isFifo(mirror)) writeMirror(b, mirror as Tree, write);
  if (fifos.length > 0) {
    // Node has no mkfifo(3); coreutils' mkfifo takes the raw bytes through argv.
    const r = spawnSync('mkfifo', fifos.map((f) => f.toString('utf8')));
    if (r.status !== 0) {
      // Fall back to a regular file (still a non-directory, non-link target).
      for (const f of fifos) if (!fs.existsSync(f)) fs.writeFileSync(f, 'fifo stand-in\n');
    }
  }
}

/** The `{rootmirror}` subtree at `<base><base>` (see random-tree.ts). */
function writeMirror(b: Buffer, mirror: Tree, write: (dir: Buffer, t: Tree) => void): void {
  // One component at a time, never through a link: the tree may already have a link (or a
  // file) where the root's host path starts, and then there is no mirror.
  let at = b;
  for (const c of b.toString('latin1').split('/').filter((x) => x !== '')) {
    at = Buffer.concat([at, Buffer.from('/'), Buffer.from(c, 'latin1')]);
    try {
      fs.mkdirSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.lstatSync(at).isDirectory()) return;
    }
  }
  write(at, mirror);
}

export interface Materialised {
  /** Real host path of the fresh directory the tree is in (UTF-8; all ASCII). */
  root: string;
  /** Removes it. */
  cleanup(): void;
}

/** Materialises `tree` under a fresh, realpath'd temporary directory. */
export function materialiseRandom(tree: Tree, prefix = 'linkcheck-rt-'): Materialised {
  const root = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), prefix));
  try {
    materialiseTree(root, tree);
  } catch (err) {
    fs.rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return { root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/**
 * A deploy layout (app/releases, shared, current) with 3,000 links in releases/2, by thirds
 * dangling, host-absolute and fine: past the 1,536 links a run keeps on its own thread (HOLD in
 * src/run/threads.ts), so -j 2 hands them to the audit thread.
 */
export function deployTree(): Tree {
  const release: Tree = {};
  for (let i = 0; i < 3000; i++) release[`l${String(i).padStart(4, '0')}`] = { link: i % 3 === 0 ? '../../shared/gone' : i % 3 === 1 ? '/shared/log' : '../../shared/log' };
  return { app: { releases: { '1': {}, '2': release }, shared: { log: {} }, current: { link: 'releases/1' } } };
}

/** Every symlink under `dir` (host byte-string paths), in no particular order; never follows links. */
export function listLinks(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: Buffer): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true, encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from('/'), e.name as unknown as Buffer]);
      if (e.isSymbolicLink()) out.push(p.toString('latin1'));
      else if (e.isDirectory()) walk(p);
    }
  };
  walk(Buffer.from(dir, 'latin1'));
  return out;
}
