/**
 * --preset sysroot, judged by a real cross toolchain on a real arm64 sysroot.
 *
 * A sysroot is read from two sides: on the host by the compiler and the linker
 * (`aarch64-linux-gnu-gcc --sysroot=S`), and by the target, for which S is `/`. Debian's
 * zlib1g-dev ships `usr/lib/aarch64-linux-gnu/libz.so -> /lib/aarch64-linux-gnu/libz.so.1.2.13`,
 * an absolute link: it resolves on the target (in the jail view) and dangles on the host. The
 * linker reads it on the host, finds nothing, and silently takes the static libz.a instead: the
 * program links, but without `NEEDED libz.so.1`. Today linkcheck calls that link a warning
 * ("works in the jail only", exit 0); under --preset sysroot it is an error, and --fix makes it
 * relative, after which the same link command records `NEEDED libz.so.1`.
 *
 * The sysroot is unpacked here from the arm64 .debs of libc6, libc6-dev, linux-libc-dev, zlib1g
 * and zlib1g-dev (`apt-get download`, kept in a cache outside the checkout; `dpkg-deb -x`), with
 * nothing left out and nothing excluded: after the fix the preset must find nothing at all.
 * libgcc-s1 is not unpacked: the link takes libgcc_s from the cross toolchain
 * (libgcc-s1-arm64-cross), and unpacked alone its /usr/share/doc/libgcc-s1 -> gcc-12-base
 * dangles (a real finding, about a package this sysroot does not have).
 *
 * Which links resolve on which side is worked out here apart from linkcheck: the host view by the
 * host kernel (fs.existsSync / realpathSync on the link), the jail view by walking S + the text
 * component by component (jailView: it handles the texts this tree has, and throws on any other).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { isRoot, links, removeDir, tempDir } from '../support/disk.js';
import { journalChanges, missingCommand, requireTool, run, toolGate } from '../support/integration.js';

const GCC = 'aarch64-linux-gnu-gcc';
const READELF = 'aarch64-linux-gnu-readelf';
/** The arm64 packages the sysroot is unpacked from (Debian 12 names). */
const PACKAGES = ['libc6', 'libc6-dev', 'linux-libc-dev', 'zlib1g', 'zlib1g-dev'] as const;
/** The development link the whole case rests on, inside the sysroot. */
const LIBZ_SO = '/usr/lib/aarch64-linux-gnu/libz.so';
/**
 * Downloaded .debs, reused between runs: outside the checkout (a clone in CI must not carry
 * them), under /var/cache for root, else in the temp directory.
 */
const CACHE = isRoot() ? '/var/cache/linkcheck-test-debs' : path.join(os.tmpdir(), `linkcheck-test-debs-${process.getuid?.() ?? 'user'}`);

/** The cached .deb of `pkg` (`<pkg>_<version>_arm64.deb`), or null. */
function cachedDeb(pkg: string): string | null {
  if (!fs.existsSync(CACHE)) return null;
  const found = fs.readdirSync(CACHE).filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('_arm64.deb'));
  return found.length === 1 ? path.join(CACHE, found[0]!) : null;
}

function missing(): string | null {
  if (process.platform !== 'linux') return `a Debian cross toolchain needs Linux, this is ${process.platform}`;
  const tool = missingCommand([GCC, READELF, 'dpkg-deb']);
  if (tool) return tool;
  if (PACKAGES.every((p) => cachedDeb(p) !== null)) return null;
  // Nothing cached: the .debs come from apt, which must know the arm64 architecture.
  const apt = missingCommand(['apt-get', 'dpkg']);
  if (apt) return apt;
  const foreign = run('dpkg', ['--print-foreign-architectures']).stdout.split('\n');
  if (!foreign.includes('arm64')) return 'arm64 is not a dpkg architecture here: dpkg --add-architecture arm64 && apt-get update';
  return null;
}

const reason = missing();
const gate = toolGate(reason);

/**
 * The .debs of PACKAGES, from the cache, downloaded into it when one is missing. A download
 * fetches them all and first removes the cached ones, so the set is always one apt run's
 * candidates (libc6 and libc6-dev of the same version).
 */
function debs(): string[] {
  if (PACKAGES.some((p) => cachedDeb(p) === null)) {
    fs.mkdirSync(CACHE, { recursive: true });
    for (const f of fs.readdirSync(CACHE)) if (PACKAGES.some((p) => f.startsWith(`${p}_`))) fs.rmSync(path.join(CACHE, f));
    const r = run('apt-get', ['download', ...PACKAGES.map((p) => `${p}:arm64`)], { cwd: CACHE, timeout: 300_000 });
    expect(r.code, `apt-get download in ${CACHE}:\n${r.out}`).toBe(0);
  }
  return PACKAGES.map((p) => {
    const deb = cachedDeb(p);
    expect(deb, `${p}_*_arm64.deb in ${CACHE}`).not.toBeNull();
    return deb!;
  });
}

/**
 * Where the link `at` (text `text`) leads in the jail, as a host path, or null when it dangles
 * there. It judges the two kinds this tree has and throws on any other, rather than guess.
 */
function jailView(S: string, text: string, at: string): string | null {
  if (!text.startsWith('/')) {
    // A relative text that resolves on the host to a file inside S, never leaving it: the jail
    // walks the same components to the same file.
    const host = fs.existsSync(at) ? fs.realpathSync(at) : null;
    if (host === null || !host.startsWith(`${S}/`)) throw new Error(`jailView: ${at} -> ${text} dangles on the host or leaves the sysroot; this oracle does not judge that`);
    return host;
  }
  let p = S;
  for (const c of text.split('/').filter((x) => x !== '')) {
    p = `${p}/${c}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return null;
    }
    if (st.isSymbolicLink()) throw new Error(`jailView: ${text} goes through the link ${p}; this oracle does not follow links`);
  }
  return p;
}

/** One link of the json report (the fields read here). */
interface JsonLink {
  path: string;
  target: string;
  findings: { rule: string; code: string; severity: 'error' | 'warning' | 'info' }[];
  fix: { target: string } | null;
}
interface JsonReport {
  links: JsonLink[];
  summary: { links: number; findings: { error: number; warning: number; info: number } };
}

describe.skipIf(gate.skip)(`a Debian arm64 sysroot, linked against by ${GCC}${gate.label}`, () => {
  let base = '';
  /** The sysroot. */
  let S = '';
  let journal = '';
  let locks = '';
  /** Every link as unpacked: path -> text. */
  let before = new Map<string, string>();
  /** The links that resolve in the jail and dangle on the host, as unpacked. */
  let jailOnly: string[] = [];
  let fixed = false;

  const linkcheck = (...args: string[]) => spawnCli([S, '--root', S, '--no-config', ...args], { env: { LINKCHECK_LOCK_DIR: locks } });
  const report = (r: { code: number | null; stdout: string; stderr: string }): JsonReport => {
    expect(r.stderr, 'linkcheck stderr').toBe('');
    return JSON.parse(r.stdout) as JsonReport;
  };
  const record = (doc: JsonReport, inside: string): JsonLink => {
    const l = doc.links.find((x) => x.path === S + inside);
    expect(l, `${inside} in the report`).toBeDefined();
    return l!;
  };

  /**
   * Compiles and links a program that calls zlibVersion() against the sysroot, as a cross build
   * would: what the linker opened (-t), the NEEDED entries, and where zlibVersion is.
   */
  const crossLink = (name: string): { opened: string[]; needed: string[]; zlibVersionNdx: string[] } => {
    const dir = `${base}/build`;
    fs.mkdirSync(dir, { recursive: true });
    const src = `${dir}/main.c`;
    fs.writeFileSync(src, '#include <stdio.h>\n#include <zlib.h>\nint main(void) { printf("zlib %s\\n", zlibVersion()); return 0; }\n');
    const out = `${dir}/${name}`;
    const cc = run(GCC, [`--sysroot=${S}`, src, '-lz', '-o', out, '-Wl,-t'], { timeout: 60_000 });
    expect(cc.code, `${GCC} --sysroot=${S} main.c -lz:\n${cc.out}`).toBe(0);
    const dyn = run(READELF, ['-dW', out]);
    expect(dyn.code, dyn.out).toBe(0);
    const syms = run(READELF, ['-sW', out]);
    expect(syms.code, syms.out).toBe(0);
    return {
      opened: cc.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== ''),
      needed: [...dyn.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!),
      // Column Ndx of each symbol table's zlibVersion: UND when a shared library is to provide it.
      zlibVersionNdx: syms.stdout
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[7] === 'zlibVersion')
        .map((f) => f[6]!),
    };
  };

  beforeAll(() => {
    requireTool(reason);
    ensureBuilt();
    const files = debs();
    base = tempDir('sysroot');
    S = `${base}/sysroot`;
    journal = `${base}/fix.journal`;
    locks = `${base}/locks`;
    fs.mkdirSync(S);
    for (const deb of files) {
      const x = run('dpkg-deb', ['-x', deb, S]);
      expect(x.code, `dpkg-deb -x ${deb}:\n${x.out}`).toBe(0);
    }
    before = links(S);
    jailOnly = [...before]
      .filter(([p, text]) => jailView(S, text, p) !== null && !fs.existsSync(p))
      .map(([p]) => p)
      .sort();
  }, 600_000);
  afterAll(() => removeDir(base));

  it('has what the case rests on: libz.so an absolute link that works in the jail and dangles on the host', () => {
    const text = before.get(S + LIBZ_SO);
    expect(text, `${LIBZ_SO} in zlib1g-dev:arm64`).toMatch(/^\/lib\/aarch64-linux-gnu\/libz\.so\.1\.\d+\.\d+$/);
    expect(fs.statSync(jailView(S, text!, S + LIBZ_SO)!).isFile(), `${text} from zlib1g:arm64`).toBe(true);
    // A host with zlib1g:arm64 installed itself would resolve the text to its own copy: the
    // linker would then find a library (the host's, not the sysroot's) and there is no case.
    expect(fs.existsSync(text!), `the host has ${text} of its own (zlib1g:arm64 installed on the host?)`).toBe(false);
    expect(jailOnly).toContain(S + LIBZ_SO);
    // Every such link of these packages is absolute (libc6-dev has eight more: libm.so, ...).
    for (const p of jailOnly) expect(before.get(p), p).toMatch(/^\//);
  });

  it('--preset sysroot: each link that works in the jail only is an error (exit 1); without the preset a warning (exit 0)', () => {
    // Without the preset (today's behaviour): warnings only, exit 0. This is what the preset changes.
    const plain = linkcheck('--format', 'json');
    const plainDoc = report(plain);
    expect(plain.code).toBe(0);
    const libz = record(plainDoc, LIBZ_SO);
    expect(libz.findings.map((f) => f.code)).toContain('LC001');
    expect(libz.findings.every((f) => f.severity === 'warning'), JSON.stringify(libz.findings)).toBe(true);
    expect(plainDoc.summary.findings.error).toBe(0);

    const r = linkcheck('--preset', 'sysroot', '--format', 'json');
    const doc = report(r);
    expect(r.code, `--preset sysroot exits 1 on an error; its findings: ${JSON.stringify(doc.summary.findings)}`).toBe(1);
    const errors = doc.links.filter((l) => l.findings.some((f) => f.severity === 'error')).map((l) => l.path).sort();
    // Exactly the links the host cannot follow: the links that work on both sides are no errors.
    expect(errors).toEqual(jailOnly);
    expect(record(doc, LIBZ_SO).fix?.target).toBe(`../../..${before.get(S + LIBZ_SO)}`);
    expect(doc.summary.links).toBe(before.size);
  });

  it('before the fix, the cross link takes the static libz.a: no NEEDED libz.so.1', () => {
    const b = crossLink('before.out');
    // The linker tried libz.so, found it dangling on the host, and went on to libz.a.
    expect(b.opened).toContain(`${S}/usr/lib/aarch64-linux-gnu/libz.a`);
    expect(b.opened).not.toContain(`${S}${LIBZ_SO}`);
    expect(b.needed).not.toContain('libz.so.1');
    expect(b.needed).toContain('libc.so.6');
    // zlib's code is in the program itself.
    expect(b.zlibVersionNdx.length).toBeGreaterThan(0);
    expect(b.zlibVersionNdx).not.toContain('UND');
  });

  it('--preset sysroot --fix exits 0, rewriting exactly those links, and the audit afterwards finds nothing', () => {
    const r = linkcheck('--preset', 'sysroot', '--fix', '--journal', journal);
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    fixed = true;
    expect(journalChanges(journal).map((c) => c.path).sort()).toEqual(jailOnly);
    const after = linkcheck('--preset', 'sysroot', '--format', 'json');
    const doc = report(after);
    expect(after.code).toBe(0);
    // Nothing left at any severity: the sysroot is whole (no exclude hides anything).
    expect(doc.summary.findings).toEqual({ error: 0, warning: 0, info: 0 });
    expect(doc.summary.links).toBe(before.size);
  });

  it('after the fix, the same cross link uses the shared libz: NEEDED libz.so.1', () => {
    expect(fixed, 'the --fix of the test before exited 0').toBe(true);
    const a = crossLink('after.out');
    expect(a.opened).toContain(`${S}${LIBZ_SO}`);
    expect(a.opened).not.toContain(`${S}/usr/lib/aarch64-linux-gnu/libz.a`);
    expect(a.needed).toEqual(expect.arrayContaining(['libz.so.1', 'libc.so.6']));
    expect(a.zlibVersionNdx.length).toBeGreaterThan(0);
    expect(a.zlibVersionNdx.every((n) => n === 'UND'), a.zlibVersionNdx.join(' ')).toBe(true);
  });

  it('every rewritten link is relative and leads, on the host, to the file it led to in the jail; the others are untouched', () => {
    expect(fixed, 'the --fix of the test before exited 0').toBe(true);
    const changes = journalChanges(journal);
    expect(changes.length).toBe(jailOnly.length);
    for (const c of changes) {
      const text = fs.readlinkSync(c.path);
      expect(c.old).toBe(before.get(c.path));
      expect(text, c.path).toBe(c.new);
      expect(text.startsWith('/'), `${c.path} -> ${text}`).toBe(false);
      expect(fs.existsSync(c.path), `${c.path} -> ${text} on the host`).toBe(true);
      expect(fs.realpathSync(c.path)).toBe(fs.realpathSync(S + c.old));
    }
    const now = links(S);
    expect([...now.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [p, text] of before) if (!jailOnly.includes(p)) expect(now.get(p), p).toBe(text);
  });
});
