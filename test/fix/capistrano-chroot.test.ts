/**
 * The Capistrano deploy inside a chroot jail, checked by the kernel itself: after
 * `linkcheck --fix`, a real `chroot R <static ls>` lists current/, current/log/,
 * current/public/system/ and current/tmp/pids/, and so does the host. Before the fix the jail
 * cannot even list current/ (the link names a host path), which shows the check can fail.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tree } from '../../fixtures/tree.js';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { isRoot, links, removeDir, tempDir } from '../support/disk.js';
import { materialiseTree } from '../support/tree.js';

const RELEASE = '20070506135654';
const APP = '/var/www/rails';

const tree: Tree = {
  bin: {},
  var: {
    www: {
      rails: {
        releases: {
          [RELEASE]: {
            app: { controllers: { 'application.rb': 'class ApplicationController; end\n' } },
            config: { 'database.yml': 'production:\n  adapter: sqlite3\n', 'routes.rb': '' },
            public: { 'index.html': '<h1>It works</h1>\n', system: { link: `{root}${APP}/shared/system` } },
            tmp: { pids: { link: `${APP}/shared/pids` }, cache: {} },
            log: { link: `{root}${APP}/shared/log` },
            REVISION: '4711\n',
          },
        },
        shared: {
          log: { 'production.log': 'Processing ApplicationController#index\n' },
          pids: { 'mongrel.8000.pid': '1234\n' },
          system: { 'maintenance.html.off': '<h1>Down for maintenance</h1>\n' },
        },
        current: { link: `{root}${APP}/releases/${RELEASE}` },
      },
    },
  },
};

/** Directory (inside the jail) -> the names it must list after the fix. */
const EXPECTED: Record<string, string[]> = {
  [`${APP}/current/`]: ['REVISION', 'app', 'config', 'log', 'public', 'tmp'],
  [`${APP}/current/log/`]: ['production.log'],
  [`${APP}/current/public/system/`]: ['maintenance.html.off'],
  [`${APP}/current/tmp/pids/`]: ['mongrel.8000.pid'],
};

/** A tiny static `ls -1a` without . and ..: one name per line, sorted; exit 1 on any error. */
const LSDIR_C = `
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
int main(int argc, char **argv) {
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    DIR *d = opendir(argv[i]);
    if (!d) { fprintf(stderr, "lsdir: %s: %s\\n", argv[i], strerror(errno)); rc = 1; continue; }
    char *names[4096]; int n = 0; struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (int k = 0; k < n; k++) puts(names[k]);
  }
  return rc;
}
`;

/** True when `file` is an ELF executable with no program interpreter (statically linked). */
function isStaticElf(file: string): boolean {
  try {
    const b = fs.readFileSync(file);
    if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return false; // 64-bit little-endian only
    const phoff = Number(b.readBigUInt64LE(0x20));
    const phentsize = b.readUInt16LE(0x36);
    const phnum = b.readUInt16LE(0x38);
    for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } catch {
    return false;
  }
}

function hasCc(): boolean {
  return spawnSync('cc', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Debian's busybox-static, when installed. */
const BUSYBOX = '/bin/busybox';

/** The host's chroot command, as an absolute path (the jail gets its own PATH). */
const CHROOT = spawnSync('sh', ['-c', 'command -v chroot'], { encoding: 'utf8' }).stdout.trim();

function missing(): string | null {
  if (process.platform !== 'linux') return `needs Linux chroot(2), this is ${process.platform}`;
  if (!isRoot()) return 'chroot(2) needs root';
  if (!CHROOT.startsWith('/')) return 'no chroot command';
  if (!isStaticElf(BUSYBOX) && !hasCc()) return 'neither a static /bin/busybox nor a C compiler to build a static lister';
  return null;
}

const reason = missing();

describe.skipIf(reason !== null)(`Capistrano deploy in a chroot, checked by the kernel${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let base = '';
  let R = '';
  /** argv (inside the jail) that lists the given directories, one name per line. */
  let lister: (dirs: string[]) => string[] = () => [];

  const inJail = (dirs: string[]): { code: number | null; out: string; err: string } => {
    // The jail's own PATH is /bin; the chroot command itself is found on the host's PATH.
    const r = spawnSync(CHROOT, [R, ...lister(dirs)], { encoding: 'utf8', env: { PATH: '/bin' } });
    if (r.error) throw r.error;
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  beforeAll(() => {
    ensureBuilt();
    base = tempDir('capistrano');
    R = `${base}/jail`;
    fs.mkdirSync(R);
    materialiseTree(R, tree);
    if (isStaticElf(BUSYBOX)) {
      fs.copyFileSync(BUSYBOX, `${R}/bin/busybox`);
      fs.chmodSync(`${R}/bin/busybox`, 0o755);
      lister = (dirs) => ['/bin/busybox', 'ls', '-1', ...dirs];
    } else {
      fs.writeFileSync(`${base}/lsdir.c`, LSDIR_C);
      const cc = spawnSync('cc', ['-static', '-O2', '-o', `${R}/bin/lsdir`, `${base}/lsdir.c`], { encoding: 'utf8' });
      if (cc.status !== 0) throw new Error(`cc -static failed (is libc6-dev installed?):\n${cc.stderr}`);
      expect(isStaticElf(`${R}/bin/lsdir`)).toBe(true);
      lister = (dirs) => ['/bin/lsdir', ...dirs];
    }
  });

  afterAll(() => removeDir(base));

  it('the jail sees the fixed links where the host does, and could not before', () => {
    // Before: the host follows the host-absolute links, the jail does not.
    expect(fs.readdirSync(`${R}${APP}/current/`).sort()).toEqual(EXPECTED[`${APP}/current/`]);
    const before = inJail([`${APP}/current/`]);
    expect(before.code, `the jail listed current/ before the fix:\n${before.out}`).not.toBe(0);
    expect(before.err).toMatch(/No such file or directory/);
    // ... and the chroot-style pids link dangles on the host.
    expect(fs.existsSync(`${R}${APP}/current/tmp/pids/`)).toBe(false);
    // The lister itself works in the jail: it can list a real directory.
    const sanity = inJail([`${APP}/shared/pids/`]);
    expect(sanity, sanity.err).toMatchObject({ code: 0, out: 'mongrel.8000.pid\n' });

    const r = spawnCli([`${R}${APP}`, '--root', R, '--fix']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^fixed current: /m);

    // Every link is now relative.
    const texts = links(R);
    expect(texts.size).toBe(4);
    for (const [p, t] of texts) expect(t.startsWith('/'), `${p} -> ${t}`).toBe(false);

    // The kernel, inside the jail: every directory lists, with the files in it.
    for (const [dir, names] of Object.entries(EXPECTED)) {
      const j = inJail([dir]);
      expect(j.code, `chroot ${R} ls ${dir}: ${j.err}`).toBe(0);
      expect(j.out.split('\n').filter((l) => l !== ''), `chroot ls ${dir}`).toEqual(names);
      // The host sees the same.
      expect(fs.readdirSync(`${R}${dir}`).sort(), `host ls ${R}${dir}`).toEqual(names);
    }
    // And in one go, as a web server would walk it.
    expect(inJail(Object.keys(EXPECTED)).code).toBe(0);

    // A second run finds nothing left to fix.
    const again = spawnCli([`${R}${APP}`, '--root', R, '--fix']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/fixed /);
    expect(links(R)).toEqual(texts);
  });
});
