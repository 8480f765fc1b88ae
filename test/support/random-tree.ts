/**
 * Seeded generator of adversarial fixture trees for a jail root, for the kernel-judged property
 * tests. The same seed always gives the same tree.
 *
 * The result is a fixtures/tree.ts `Tree`, with three extensions that support/tree.ts's
 * `materialiseTree` understands and fixtures' `materialise` does not:
 *  - `{rootname}` in a link text: the last component of the directory the tree is materialised
 *    under (so `{root}/../{rootname}/x` climbs out of the root and comes back in on the host);
 *  - `{byte:XX}` in a link text: one raw byte (texts naming non-UTF-8 names, or non-UTF-8 texts);
 *  - a top-level key `{rootmirror}`: its subtree is materialised at `<base><base>`, i.e. at the
 *    jail path equal to the root's host path, so host-absolute texts (`{root}/x`) also resolve
 *    inside the jail, to somewhere else.
 * Texts use `{root}` as fixtures do. Names `bytes:<hex>` are raw byte names, as in fixtures.
 */
import type { Entry, Tree } from '../../fixtures/tree.js';
import { mulberry32 } from './prng.js';

export type { Tree } from '../../fixtures/tree.js';

export interface RandomTreeOptions {
  /** About how many symlinks to make (default 200). */
  links?: number;
}

type Kind = 'dir' | 'file' | 'link' | 'fifo';
/** A path inside the root as tree names (`bytes:<hex>` for raw names); [] is the root. */
type P = string[];

const PLAIN = ['a', 'b', 'c', 'data', 'log', 'lib', 'shared', 'public', 'tmp', 'cfg', 'x', 'sub', 'releases', 'srv', 'www'];
const ODD = [
  'with space',
  ' lead',
  'trail ',
  'new\nline',
  'tab\there',
  'ünïcödé',
  '日本語',
  '\u202eevil',
  'bytes:ff',
  'bytes:66ff6f',
  'bytes:c3',
  'bytes:e282',
  '-dash',
  '--help',
  '-',
  '*',
  '?',
  '[ab]',
  '*.txt',
  'quote"q',
  "apos'",
  'back\\slash',
  '.hidden',
  '...',
  '..x',
  'x..',
  '%s%n',
  '$HOME',
  'undo',
  'rules',
];

/** A name as text in a link text: raw bytes become `{byte:XX}` tokens. */
function nameText(name: string): string {
  if (!name.startsWith('bytes:')) return name;
  const hex = name.slice(6);
  let out = '';
  for (let i = 0; i < hex.length; i += 2) out += `{byte:${hex.slice(i, i + 2)}}`;
  return out;
}

const joinText = (comps: readonly string[]): string => comps.map(nameText).join('/');
const key = (p: P): string => p.join('\0');

class Gen {
  private readonly r: () => number;
  private readonly names = new Map<string, Set<string>>();
  private readonly kinds = new Map<string, Kind>();
  readonly dirs: P[] = [[]];
  readonly files: P[] = [];
  readonly links: { path: P; text: string }[] = [];
  /** Links made by a recipe that always point at a directory (for dirlink/../x). */
  readonly dirLinks: { path: P; target: P }[] = [];
  readonly mirror: Tree | null;
  private serial = 0;

  constructor(
    seed: number,
    private readonly budget: number,
  ) {
    this.r = mulberry32(seed * 2654435761 + 12345);
    this.mirror = this.chance(0.5) ? {} : null;
  }

  // --- randomness ---
  rand(): number {
    return this.r();
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }

  // --- model ---
  private freshName(dir: P, base?: string): string {
    const set = this.names.get(key(dir)) ?? new Set<string>();
    this.names.set(key(dir), set);
    let n = base ?? (this.chance(0.3) ? this.pick(ODD) : this.pick(PLAIN));
    while (set.has(n) || n === '' || n === '.' || n === '..') {
      // Keep raw names raw: append ASCII hex bytes to a bytes: name.
      n = n.startsWith('bytes:') ? `${n}${Buffer.from(String(this.serial++)).toString('hex')}` : `${n}${this.serial++}`;
    }
    set.add(n);
    return n;
  }
  /** A fresh name in `dir`, kept for a later linkAt. */
  reserve(dir: P, base?: string): string {
    return this.freshName(dir, base);
  }
  add(dir: P, kind: Kind, base?: string): P {
    const p = [...dir, this.freshName(dir, base)];
    this.kinds.set(key(p), kind);
    if (kind === 'dir') this.dirs.push(p);
    else if (kind === 'file') this.files.push(p);
    return p;
  }
  link(dir: P, text: string, base?: string): P {
    return this.linkAt([...dir, this.freshName(dir, base)], text);
  }
  /** A link at a path whose name was reserved. */
  linkAt(p: P, text: string): P {
    this.kinds.set(key(p), 'link');
    this.links.push({ path: p, text });
    return p;
  }
  kindOf(p: P): Kind | undefined {
    return this.kinds.get(key(p));
  }
  remaining(): number {
    return this.budget - this.links.length;
  }

  // --- texts ---
  rel(from: P, to: P): string {
    let i = 0;
    while (i < from.length && i < to.length && from[i] === to[i]) i++;
    const parts = [...Array<string>(from.length - i).fill('..'), ...to.slice(i).map(nameText)];
    return parts.length === 0 ? '.' : parts.join('/');
  }
  /** Any entry: directory, file, link (earlier ones) or the root. */
  anyEntry(): P {
    const x = this.rand();
    if (x < 0.35) return this.pick(this.dirs);
    if (x < 0.7 && this.files.length > 0) return this.pick(this.files);
    if (this.links.length > 0) return this.pick(this.links).path;
    return this.pick(this.dirs);
  }
  missing(): P {
    const base = this.pick(this.dirs);
    return [...base, this.chance(0.8) ? `missing${this.serial++}` : this.pick(ODD)];
  }
  target(): P {
    return this.chance(0.8) ? this.anyEntry() : this.missing();
  }
  /** Sprinkles `.`, `//` and harmless `d/..` (d a real directory) into a text. */
  noisy(text: string): string {
    const parts = text.split('/');
    const out: string[] = [];
    for (const p of parts) {
      if (this.chance(0.15)) out.push('.');
      if (this.chance(0.1)) out.push('');
      out.push(p);
    }
    if (this.chance(0.2)) out.push('');
    return out.join('/');
  }
}

type Recipe = (g: Gen) => void;

const linkDir = (g: Gen): P => g.pick(g.dirs);

const recipes: [number, Recipe][] = [
  // Plain relative link to anything (dirs, files, links, missing).
  [14, (g) => {
    const d = linkDir(g);
    g.link(d, g.rel(d, g.target()));
  }],
  // Relative with noise: ./, //, trailing /, d/.. through a real directory.
  [6, (g) => {
    const d = linkDir(g);
    const t = g.target();
    let text = g.noisy(g.rel(d, t));
    if (g.chance(0.3)) {
      const via = g.pick(g.dirs);
      text = `${g.rel(d, via)}/${'../'.repeat(via.length)}${joinText(t)}`;
    }
    g.link(d, text);
  }],
  // Host-prefixed absolute (Capistrano) with variants: //, /./, trailing /, "/" + root.
  [9, (g) => {
    const d = linkDir(g);
    const t = g.target();
    const body = joinText(t);
    const v = g.int(6);
    const text =
      v === 0 ? `/{root}/${body}` : v === 1 ? `{root}//${body}` : v === 2 ? g.noisy(`{root}/${body}`) : v === 3 ? '{root}' : v === 4 ? '{root}/' : `{root}/${body}`;
    g.link(d, text);
  }],
  // Chroot-style absolute.
  [9, (g) => {
    const d = linkDir(g);
    const body = joinText(g.target());
    const v = g.int(5);
    g.link(d, v === 0 ? `//${body}` : v === 1 ? `/./${body}` : v === 2 ? g.noisy(`/${body}`) : `/${body}`);
  }],
  // '..' far past the root (or exactly to it).
  [5, (g) => {
    const d = linkDir(g);
    const extra = g.chance(0.25) ? 0 : 1 + g.int(8);
    g.link(d, '../'.repeat(d.length + extra) + joinText(g.target()));
  }],
  // /../x and friends.
  [3, (g) => {
    const d = linkDir(g);
    g.link(d, g.pick(['/../', '/../../', '/./../', '//..//']) + joinText(g.target()));
  }],
  // Texts that begin with the root's host path and climb out (sometimes back in).
  [5, (g) => {
    const d = linkDir(g);
    const t = joinText(g.target());
    const texts = [
      `{root}/../x${g.int(9)}`,
      '{root}/..',
      `{root}/../{rootname}/${t}`,
      `{root}/${t}/../../../{rootname}`,
      `{root}/a/../../{rootname}/${t}`,
      `{root}/./../../..`,
      `{root}//../{rootname}//${t}`,
    ];
    g.link(d, g.pick(texts));
  }],
  // dirlink/../x: '..' is physical, taken after following dirlink.
  [6, (g) => {
    const target = g.pick(g.dirs);
    let dl: P;
    const known = g.dirLinks.filter(() => g.chance(0.5));
    if (known.length > 0 && g.chance(0.5)) {
      dl = known[0]!.path;
    } else {
      const d1 = linkDir(g);
      const v = g.int(3);
      dl = g.link(d1, v === 0 ? g.rel(d1, target) : v === 1 ? `/${joinText(target)}` : `{root}/${joinText(target)}`);
      g.dirLinks.push({ path: dl, target });
    }
    const d2 = linkDir(g);
    const parent = target.slice(0, -1);
    const sibling = g.chance(0.5) ? g.target() : [...parent, g.pick(PLAIN)];
    const name = sibling.length > 0 ? nameText(sibling[sibling.length - 1]!) : '.';
    g.link(d2, `${g.rel(d2, dl)}/../${name}`);
    if (g.chance(0.3)) g.link(d2, `${g.rel(d2, dl)}/../../${g.chance(0.5) ? name : ''}`);
  }],
  // Trailing slash onto a file / dir / link; file/..; file/.; through a file.
  [6, (g) => {
    const d = linkDir(g);
    const f = g.files.length > 0 && g.chance(0.7) ? g.pick(g.files) : g.anyEntry();
    const base = g.chance(0.5) ? g.rel(d, f) : `/${joinText(f)}`;
    g.link(d, base + g.pick(['/', '/..', '/.', '/x', '/../x', '//', '/./']));
  }],
  // Dots and roots.
  [3, (g) => {
    const d = linkDir(g);
    g.link(d, g.pick(['.', '..', './', '../', '/', '//', '/.', '/..', '../..', '../../..', './.', '{root}/.', './/.']));
  }],
  // Host paths outside any jail.
  [3, (g) => {
    const d = linkDir(g);
    g.link(
      d,
      g.pick([
        '/etc/passwd',
        '/etc',
        '/etc/',
        '/usr/bin/',
        '/bin/sh',
        '/lib',
        '/lib/',
        '/dev/null',
        '/etc/passwd/',
        '/etc/passwd/..',
        '/tmp/..',
        '/root',
        '/usr/lib/../bin',
        '/nonexistent-linkcheck-test',
        '/srv/lighty/var/www',
      ]),
    );
  }],
  // Odd texts: names that look like options, globs, control characters, raw bytes.
  [3, (g) => {
    const d = linkDir(g);
    g.link(
      d,
      g.pick(['-x', '--fix', '*', '?', '[ab]', 'a b', 'new\nline', 'ünï', '{byte:ff}', 'a{byte:ff}b', '{byte:c3}', ' ', '\t', '\\', 'x'.repeat(300), `${'./'.repeat(700)}.`]),
    );
  }],
  // Raw-byte names as targets (texts with non-UTF-8 bytes that resolve).
  [2, (g) => {
    const d = linkDir(g);
    const f = g.add(g.pick(g.dirs), 'file', g.pick(['bytes:ff', 'bytes:66ff6f', 'bytes:fe']));
    g.link(d, g.chance(0.5) ? g.rel(d, f) : `/${joinText(f)}`);
  }],
  // Chains of links, mixing text styles.
  [4, (g) => {
    const n = 2 + g.int(5);
    const end = g.target();
    let next = end;
    for (let i = 0; i < n; i++) {
      const d = linkDir(g);
      const v = g.int(4);
      next = g.link(d, v === 0 ? `/${joinText(next)}` : v === 1 ? `{root}/${joinText(next)}` : g.rel(d, next));
    }
  }],
  // 1-, 2- and 3-cycles.
  [3, (g) => cycle(g, 1 + g.int(3))],
];

function cycle(g: Gen, n: number): void {
  const dirs = Array.from({ length: n }, () => linkDir(g));
  const paths = dirs.map((d) => [...d, g.reserve(d, 'cyc')]);
  for (let i = 0; i < n; i++) {
    const d = dirs[i]!;
    const to = paths[(i + 1) % n]!;
    const v = g.int(3);
    g.linkAt(paths[i]!, v === 0 ? `/${joinText(to)}` : v === 1 ? `{root}/${joinText(to)}` : g.rel(d, to));
  }
}

/** A chain of exactly n links ending at a file: following the first takes n hops (41 = ELOOP). */
function longChain(g: Gen, n: number, style: 'rel' | 'abs' | 'mixed'): void {
  const d = g.add([], 'dir', `chain${n}`);
  const end = g.add(d, 'file', 'end');
  const names = Array.from({ length: n }, (_, i) => `l${String(i + 1).padStart(2, '0')}`);
  for (let i = 0; i < n; i++) {
    const to = i === n - 1 ? end : [...d, names[i + 1]!];
    const abs = style === 'abs' || (style === 'mixed' && i % 2 === 1);
    g.link(d, abs ? `/${joinText(to)}` : g.rel(d, to), names[i]);
  }
}

function skeleton(g: Gen): void {
  const etc = g.add([], 'dir', 'etc');
  g.add(etc, 'file', 'passwd');
  const usr = g.add([], 'dir', 'usr');
  const bin = g.add(usr, 'dir', 'bin');
  g.add(bin, 'file', 'sh');
  g.add(usr, 'dir', 'lib');
  g.link([], g.chance(0.5) ? 'usr/bin' : '/usr/bin', 'bin');
  if (g.chance(0.5)) g.link([], 'usr/lib', 'lib');
  const www = g.add(g.add(g.add([], 'dir', 'var'), 'dir', 'www'), 'dir', 'rails');
  const rel = g.add(g.add(www, 'dir', 'releases'), 'dir', '20070506135654');
  g.add(rel, 'dir', 'public');
  const shared = g.add(www, 'dir', 'shared');
  g.add(shared, 'dir', 'log');
  g.add(shared, 'dir', 'pids');
  g.link(www, `{root}/${joinText(rel)}`, 'current');
  g.link(rel, `{root}/${joinText([...shared, 'log'])}`, 'log');
  g.link(rel, '/var/www/rails/shared/pids', 'pids');
  g.link(rel, '../../shared/./log//', 'log2');
  g.add([], 'fifo', 'fifo');
}

/** A deterministic adversarial tree with about `opts.links` symlinks (default 200). */
export function randomTree(seed: number, opts: RandomTreeOptions = {}): Tree {
  const budget = Math.max(20, opts.links ?? 200);
  const g = new Gen(seed, budget);
  skeleton(g);
  const nDirs = 4 + Math.ceil(budget / 8);
  for (let i = 0; i < nDirs; i++) {
    const parents = g.dirs.filter((d) => d.length < 6);
    g.add(g.pick(parents), 'dir');
  }
  const nFiles = 4 + Math.ceil(budget / 4);
  for (let i = 0; i < nFiles; i++) g.add(g.pick(g.dirs), 'file');
  if (budget >= 150) {
    longChain(g, 40, g.pick(['rel', 'abs', 'mixed'] as const));
    longChain(g, 41, g.pick(['rel', 'abs', 'mixed'] as const));
  }
  const total = recipes.reduce((s, [w]) => s + w, 0);
  while (g.remaining() > 0) {
    let x = g.rand() * total;
    for (const [w, recipe] of recipes) {
      x -= w;
      if (x < 0) {
        recipe(g);
        break;
      }
    }
  }
  return toTree(g);
}

function toTree(g: Gen): Tree {
  const tree: Tree = {};
  const dirOf = (p: P): Tree => {
    let t = tree;
    for (const c of p) t = t[c] as Tree;
    return t;
  };
  const set = (p: P, e: Entry): void => {
    Object.defineProperty(dirOf(p.slice(0, -1)), p[p.length - 1]!, { value: e, enumerable: true, writable: true, configurable: true });
  };
  for (const d of g.dirs) if (d.length > 0) set(d, {});
  for (const f of g.files) set(f, `content of ${f.join('/')}\n`);
  for (const l of g.links) set(l.path, { link: l.text });
  set(['fifo'], { fifo: true });
  if (g.mirror) {
    // Inside the jail at the root's host path: a few names the real tree has, so `{root}/x`
    // resolves in the jail too, elsewhere. Files where the tree has directories and vice versa.
    const m = g.mirror;
    m['etc'] = { passwd: 'mirror passwd\n' };
    for (const d of g.dirs.slice(1, 12)) if (d.length === 1 && d[0] !== 'etc' && d[0] !== 'var') m[d[0]!] = 'mirror file where the tree has a directory\n';
    for (const f of g.files.slice(0, 12)) if (f.length === 1 && !f[0]!.startsWith('bytes:')) m[f[0]!] = { inner: 'mirror dir where the tree has a file\n' };
    m['var'] = { www: { rails: { releases: { '20070506135654': {} } } } };
    tree['{rootmirror}'] = m;
  }
  return tree;
}

// ---------------------------------------------------------------------------------------------
// Shared by the kernel property tests: the CLI's JSON as bytes, lexical checks.

/**
 * A JSON string of the report (UTF-8 text, lone surrogates U+DC80..U+DCFF standing for raw bytes)
 * as a byte string. Written here independently of src/core/bytes.ts.
 */
export function jsonToBytes(s: string): string {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) out.push(cp - 0xdc00);
    else for (const b of Buffer.from(ch, 'utf8')) out.push(b);
  }
  return Buffer.from(out).toString('latin1');
}

/** Path components of a text; a trailing slash counts as a final '.'. */
function textComponents(text: string): string[] {
  const c = text.split('/').filter((p) => p !== '');
  if (c.length > 0 && text.endsWith('/')) c.push('.');
  return c;
}

/**
 * Whether walking `comps` lexically from `depth` levels below the top goes above it. Written
 * again here on purpose: the contract check must not share code with what it checks (src/core/paths.ts).
 */
function climbsAbove(depth: number, comps: readonly string[]): boolean {
  let d = depth;
  for (const c of comps) {
    if (c === '..') {
      if (d === 0) return true;
      d--;
    } else if (c !== '.') d++;
  }
  return false;
}

function within(p: string, parent: string): boolean {
  if (parent === '/') return p.startsWith('/');
  return p === parent || p.startsWith(parent + '/');
}

/**
 * The JSON contract's escapes-root condition, computed independently: (a) a relative text climbs
 * above the root from the link's directory, (b) an absolute text climbs above '/', (c) a text that
 * starts with the root's host path (whole components, repeated slashes collapsed) climbs out after
 * it, (d) the kernel's host view resolves outside the root.
 */
export function expectEscapes(root: string, linkPath: string, text: string, host: { status: string; resolved: string | null }): boolean {
  const dir = linkPath.slice(0, linkPath.lastIndexOf('/'));
  const inside = root === '/' ? dir : dir.slice(root.length);
  const depth = inside.split('/').filter((c) => c !== '').length;
  const comps = textComponents(text);
  if (!text.startsWith('/')) {
    if (climbsAbove(depth, comps)) return true;
  } else {
    if (climbsAbove(0, comps)) return true;
    if (root !== '/') {
      const rc = root.split('/').filter((c) => c !== '');
      const tc = text.split('/').filter((c) => c !== '');
      if (tc.length >= rc.length && rc.every((c, i) => tc[i] === c)) {
        const rest = tc.slice(rc.length);
        if (rest.length > 0 && text.endsWith('/')) rest.push('.');
        if (climbsAbove(0, rest)) return true;
      }
    }
  }
  return host.status === 'ok' && !within(host.resolved!, root);
}

/** A byte string for an assertion message: JSON-quoted, raw bytes as \xNN. */
export function show(b: string | null | undefined): string {
  if (b === null || b === undefined) return String(b);
  return JSON.stringify(jsonText(b));
}
function jsonText(b: string): string {
  const buf = Buffer.from(b, 'latin1');
  const s = buf.toString('utf8');
  return Buffer.from(s, 'utf8').equals(buf) ? s : [...buf].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`)).join('');
}
