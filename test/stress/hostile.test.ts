/**
 * Hostile trees: a chain of 10,000 nested directories, 200,000 entries in one directory, link
 * texts of 4,095 bytes, names of 255 bytes, names with every control byte and invalid UTF-8,
 * fifos, sockets and device nodes, bind mounts. For each, every format with -j 1 and -j 2 must
 * end in time with a correct report (the JSON judged link by link by the kernel) or exit 2 with
 * one line: never a crash, a stack trace or a hang.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { isRoot, removeDir, tempDir } from '../support/disk.js';
import { IN_CI } from '../support/integration.js';
import { spawnCliTimed } from '../support/cli.js';
import { type AllWays, auditAllWays } from '../support/stress.js';
import { listLinks } from '../support/tree.js';
import { disagreements, seenInJson } from '../kernel/judge.js';
import { oracleUnavailableReason } from '../kernel/oracle.js';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');
const oracle = oracleUnavailableReason();
if (oracle !== null && IN_CI) throw new Error(`the kernel oracle must run in CI: ${oracle}`);

interface JsonLink {
  path: string;
  target: string;
  chroot: { status: string; errno: string | null };
  host: { status: string; errno: string | null };
}
interface JsonDoc {
  links: JsonLink[];
  unreadable: { path: string; errno: string }[];
  summary: { links: number; entries: number };
}

/**
 * Every run keeps the contract, and every link of the JSON report agrees with the kernel, except
 * those in `limits` (documented differences, checked by the caller).
 */
function judged(label: string, root: string, ways: AllWays, expected: string[], limits: ReadonlySet<string> = new Set()): JsonDoc {
  const problems = [...ways.problems];
  expect(ways.json, `${label}: no JSON report: ${problems.join('\n')}`).not.toBeNull();
  const seen = seenInJson(ways.json!).filter((l) => !limits.has(l.path));
  if (oracle === null) problems.push(...disagreements(label, root, seen, expected));
  expect(problems, `${label}: ${problems.length} problems:\n${problems.slice(0, 30).join('\n')}`).toEqual([]);
  return JSON.parse(ways.json!) as JsonDoc;
}

/** Removes a chain of nested `d` directories from the bottom up: too deep for a recursive rm. */
function removeChain(top: string): void {
  const here = process.cwd();
  try {
    process.chdir(top);
    let depth = 0;
    while (fs.existsSync('d')) {
      process.chdir('d');
      depth++;
    }
    for (; depth > 0; depth--) {
      for (const name of fs.readdirSync('.')) fs.unlinkSync(name);
      process.chdir('..');
      fs.rmdirSync('d');
    }
  } finally {
    process.chdir(here);
  }
}

let work = '';
beforeAll(() => {
  ensureBuilt();
  work = tempDir('hostile');
});
afterAll(() => removeDir(work));

describe('hostile trees: a correct report in every format, -j 1 and -j 2, or exit 2 with one line', () => {
  it('a chain of 10,000 nested directories: no stack overflow; past PATH_MAX an unreadable entry, not a crash', () => {
    const root = `${work}/deep`;
    fs.mkdirSync(root);
    const links: string[] = [];
    const here = process.cwd();
    try {
      // Built with relative steps: the full path passes PATH_MAX long before the bottom.
      process.chdir(root);
      fs.symlinkSync('d/d/d/d', 'short');
      links.push(`${root}/short`);
      fs.symlinkSync(`${'d/'.repeat(2047)}d`, 'long'); // 4,095 bytes: the longest text Linux takes
      for (let depth = 1; depth <= 10_000; depth++) {
        fs.mkdirSync('d');
        process.chdir('d');
        if (depth % 500 === 0 || depth === 10_000) {
          fs.symlinkSync('../'.repeat(Math.min(depth, 40)), 'up');
          fs.symlinkSync('/deep/d/d', 'abs');
          const p = `${root}${'/d'.repeat(depth)}`;
          if (p.length + 4 < 4096) links.push(`${p}/up`, `${p}/abs`);
        }
      }
    } finally {
      process.chdir(here);
    }
    const ways = auditAllWays([root, '--root', work]);
    // `long` lands past PATH_MAX: the kernel follows it, linkcheck's lstat cannot (README "Limits").
    const doc = judged('deep', work, ways, links, new Set([`${root}/long`]));
    const long = doc.links.find((l) => l.path === `${root}/long`);
    expect(long?.chroot, 'the 4,095-byte text into the chain').toMatchObject({ status: 'error', errno: 'ENAMETOOLONG' });
    expect(long?.host).toMatchObject({ status: 'error', errno: 'ENAMETOOLONG' });
    expect(doc.links.map((l) => l.path).sort()).toEqual([...links, `${root}/long`].sort());
    // The walk stops where the path outgrows PATH_MAX and says so, once.
    expect(doc.unreadable.map((u) => u.errno)).toEqual(['ENAMETOOLONG']);
    expect(doc.unreadable[0]!.path.length).toBeGreaterThan(4096 - 3);
    expect(doc.summary.entries).toBeGreaterThan(2000);
    removeChain(root);
  }, 300_000);

  it('200,000 entries in one directory', () => {
    const root = `${work}/wide`;
    const dir = `${root}/big`;
    fs.mkdirSync(dir, { recursive: true });
    const links: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const name = `${dir}/e${i}`;
      if (i % 100 === 0) {
        // Every 100th entry a link (enough for -j 2 to hand the judging to its second thread): to a neighbour, dangling, absolute, or climbing out.
        const text = [`e${i + 1}`, `missing${i}`, `/big/e${i + 3}`, '../../../etc'][(i / 100) % 4]!;
        fs.symlinkSync(text, name);
        links.push(name);
      } else fs.closeSync(fs.openSync(name, 'w'));
    }
    const doc = judged('wide', root, auditAllWays([root, '--root', root], 120_000), links);
    expect(doc.summary.entries).toBe(200_001);
    expect(doc.links).toHaveLength(2000);
  }, 600_000);

  it('names of 255 bytes, components of 256, link texts of 4,095 bytes', () => {
    const root = `${work}/long`;
    const n255 = 'n'.repeat(255);
    fs.mkdirSync(`${root}/${n255}`, { recursive: true });
    fs.writeFileSync(`${root}/${n255}/f`, 'x');
    const texts: [string, string][] = [
      ['l255'.padEnd(255, 'l'), `${n255}/f`],
      ['dots', `${'./'.repeat(2047)}f`], // 4,095 bytes, lands on ./f
      ['climb', `${'../'.repeat(1364)}xyz`], // 4,095 bytes, climbs far above the root
      ['slashes', '/'.repeat(4095)],
      ['inner', `${`${n255}/../`.repeat(15)}${n255}/f`.slice(0, 4095)],
      ['c256', `${'c'.repeat(256)}/f`], // a component too long to exist: ENAMETOOLONG
      ['abs255', `/${n255}/f`],
      ['trail', `${n255}/f/`],
    ];
    fs.writeFileSync(`${root}/f`, 'x');
    for (const [name, text] of texts) {
      expect(Buffer.byteLength(text) <= 4095, `${name} fits a link`).toBe(true);
      fs.symlinkSync(text, `${root}/${name}`);
    }
    fs.symlinkSync(`../${'../'.repeat(1364)}`.slice(0, 4095), `${root}/${n255}/${'u'.repeat(255)}`);
    const doc = judged('long names', root, auditAllWays([root, '--root', root]), listLinks(root));
    expect(doc.links.find((l) => l.path.endsWith('/c256'))?.chroot.errno).toBe('ENAMETOOLONG');
  });

  it('names with every control byte and invalid UTF-8, in names and texts; pretty output escapes them all', () => {
    const root = `${work}/bytes`;
    fs.mkdirSync(root);
    const bytes = [...Array.from({ length: 31 }, (_, i) => i + 1), 127, 0x80, 0xc3, 0xed, 0xfe, 0xff];
    const odd = [Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from('e\u0301\u202e\u200b', 'utf8')];
    const names = [...bytes.map((b) => Buffer.from([0x61, b, 0x7a])), ...odd];
    for (const [i, n] of names.entries()) {
      const dir = Buffer.concat([B(`${root}/`), n]);
      fs.mkdirSync(dir);
      fs.writeFileSync(Buffer.concat([dir, B('/'), n]), 'x');
      fs.symlinkSync(n, Buffer.concat([dir, B('/rel')])); // ok: the file beside it
      fs.symlinkSync(Buffer.concat([B('/'), n, B('/'), n]), Buffer.concat([dir, B('/abs')])); // ok in the jail
      fs.symlinkSync(Buffer.concat([B('../'), n, B('/missing'), n]), Buffer.concat([dir, n, B('x')])); // dangling
      if (i % 3 === 0) fs.symlinkSync(Buffer.concat([n, B('/')]), Buffer.concat([dir, B('/notdir')])); // the file, with a /
    }
    const ways = auditAllWays([root, '--root', root]);
    judged('control bytes', root, ways, listLinks(root));
    for (const j of ['1', '2']) {
      const pretty = ways.runs.get('pretty')!.get(j)!.stdout;
      const raw = [...pretty].filter((b) => (b < 0x20 && b !== 0x0a) || b === 0x7f);
      expect(raw, `pretty -j ${j}: raw control bytes in the output`).toEqual([]);
      // Exactly as many lines as a report with every name escaped: no name may add one.
      const lines = pretty.toString('latin1').split('\n');
      expect(lines.filter((l) => /-> /.test(l)).length, `pretty -j ${j}: one headline per problem link`).toBeGreaterThan(0);
    }
  });

  describe('fifos, sockets and device nodes are never opened', () => {
    const root = () => `${work}/special`;
    let server: net.Server | null = null;
    beforeAll(async () => {
      fs.mkdirSync(root());
      expect(spawnSync('mkfifo', [`${root()}/fifo`]).status, 'mkfifo').toBe(0);
      server = net.createServer();
      await new Promise<void>((resolve) => server!.listen(`${root()}/sock`, resolve));
      fs.writeFileSync(`${root()}/file`, 'x');
    });
    afterAll(() => {
      server?.close();
    });

    it('positive control: opening the fifo (no writer) hangs', () => {
      const r = spawnSync(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(`${root()}/fifo`)}, 'r')`], { timeout: 1500, killSignal: 'SIGKILL' });
      expect(r.signal).toBe('SIGKILL');
    });

    it('audit and --fix end in time; every link agrees with the kernel', () => {
      const r = root();
      const devices = isRoot();
      if (devices) {
        expect(spawnSync('mknod', [`${r}/chr`, 'c', '1', '3']).status, 'mknod c').toBe(0);
        expect(spawnSync('mknod', [`${r}/blk`, 'b', '7', '250']).status, 'mknod b').toBe(0);
      } else if (IN_CI) throw new Error('device nodes need root, and CI runs as root');
      else console.log('special files: device nodes skipped (they need root)');
      const specials = ['fifo', 'sock', ...(devices ? ['chr', 'blk'] : [])];
      fs.mkdirSync(`${r}/in`);
      for (const s of specials) {
        fs.symlinkSync(`../${s}`, `${r}/in/${s}-rel`);
        fs.symlinkSync(`${r}/${s}`, `${r}/in/${s}-host`); // host-absolute: --fix rewrites it
        fs.symlinkSync(`/${s}/x`, `${r}/in/${s}-through`);
        fs.symlinkSync(`/${s}/`, `${r}/in/${s}-slash`);
      }
      const expected = listLinks(r);
      judged('special files', r, auditAllWays([r, '--root', r], 30_000), expected);
      const fix = spawnCliTimed([r, '--root', r, '--fix', '--format', 'json'], 30_000);
      expect(fix.signal, `--fix: ${fix.stderr}`).toBeNull();
      expect([0, 1]).toContain(fix.status);
      const changes = (JSON.parse(fix.stdout.toString('utf8')) as { changes: { path: string; status: string }[] }).changes;
      expect(changes.filter((c) => c.status === 'changed').length).toBe(specials.length);
      for (const s of specials) expect(fs.readlinkSync(`${r}/in/${s}-host`)).toBe(`../${s}`);
      for (const s of specials) expect(fs.lstatSync(`${r}/${s}`).isFile()).toBe(false);
    });
  });

  const mountReason = isRoot() ? null : 'bind mounts need root';
  if (mountReason !== null && IN_CI) throw new Error('bind mounts need root, and CI runs as root');
  describe.skipIf(mountReason !== null)(`bind mounts${mountReason ? ` (skipped: ${mountReason})` : ''}`, () => {
    const mounted: string[] = [];
    afterAll(() => {
      for (const m of mounted.reverse()) spawnSync('umount', ['-l', m]);
    });

    it('links in and through bind mounts agree with the kernel; -x stays off them', () => {
      const root = `${work}/bind`;
      const outside = `${work}/bind-outside`;
      for (const d of [`${root}/a/sub`, `${root}/b/mnt`, `${root}/c`, `${outside}/o`]) fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(`${root}/a/sub/f`, 'x');
      fs.writeFileSync(`${outside}/o/g`, 'x');
      fs.symlinkSync('../sub/f', `${root}/a/sub/rel`);
      fs.symlinkSync('../../../a/sub/f', `${root}/a/sub/climb`);
      fs.symlinkSync('/b/mnt/sub/f', `${root}/a/sub/via-mount`);
      fs.symlinkSync('../g', `${outside}/o/rel`);
      fs.symlinkSync('../../../a/sub/f', `${outside}/o/climb`); // from c/o: climbs to the root's a/sub/f
      fs.symlinkSync('/c/o/g', `${root}/to-c`);
      fs.symlinkSync(`${root}/b/mnt/sub/f`, `${root}/host-abs`);
      for (const [src, dst] of [
        [`${root}/a`, `${root}/b/mnt`],
        [outside, `${root}/c`],
      ] as const) {
        const m = spawnSync('mount', ['--bind', src, dst], { encoding: 'utf8' });
        if (m.status !== 0) throw new Error(`mount --bind ${src} ${dst} failed: ${m.stderr.trim()}`);
        mounted.push(dst);
      }
      const doc = judged('bind mounts', root, auditAllWays([root, '--root', root]), listLinks(root));
      expect(doc.links.some((l) => l.path === `${root}/c/o/climb`)).toBe(true);
      // A bind mount of a directory on the same file system keeps its device number, so -x (like
      // find -xdev) walks it; a file system of its own (a tmpfs) is where -x stops.
      const tmpfs = `${root}/t`;
      fs.mkdirSync(tmpfs);
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tmpfs], { encoding: 'utf8' });
      if (m.status !== 0) throw new Error(`mount -t tmpfs failed: ${m.stderr.trim()}`);
      mounted.push(tmpfs);
      fs.symlinkSync('/a/sub/f', `${tmpfs}/in-tmpfs`);
      const all = listLinks(root);
      expect(all).toContain(`${tmpfs}/in-tmpfs`);
      judged('bind mounts and a tmpfs', root, auditAllWays([root, '--root', root]), all);
      const xdoc = judged('bind mounts and a tmpfs, -x', root, auditAllWays([root, '--root', root, '-x']), all.filter((p) => !p.startsWith(`${tmpfs}/`)));
      expect(xdoc.links.map((l) => l.path)).toContain(`${root}/c/o/climb`);
    });
  });
});
