/** Pure, lexical path helpers over byte strings. Nothing here touches the file system. */

/**
 * The components of a path text in order, with empty ones (from `//`) dropped. A trailing slash
 * becomes a final `.`: POSIX resolves `x/` exactly as `x/.`, which demands that x be a directory.
 */
export function components(text: string): string[] {
  const parts = text.split('/');
  const out: string[] = [];
  for (const p of parts) if (p !== '') out.push(p);
  if (out.length > 0 && text.endsWith('/')) out.push('.');
  return out;
}

/** The character code of '/', for the loops that scan a path without splitting it. */
export const SLASH = 0x2f;

export function isAbsolute(text: string): boolean {
  return text.charCodeAt(0) === SLASH;
}

/** Parent view path of a '/'-based path ('/' stays '/'). */
export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** `child` is `parent` or inside it, as whole components. `parent` '/' contains everything. */
export function isWithin(child: string, parent: string): boolean {
  if (parent === '/' || parent === '') return child.startsWith('/');
  return child === parent || (child.startsWith(parent) && child.charCodeAt(parent.length) === SLASH);
}

/**
 * Whether walking `comps` lexically from `depth` components below the top climbs above it
 * (more `..` than there is room for). Links are not consulted: this is the text's own intent.
 */
export function climbsAbove(depth: number, comps: readonly string[]): boolean {
  let d = depth;
  for (const c of comps) {
    if (c === '..') {
      if (d === 0) return true;
      d--;
    } else if (c !== '.') d++;
  }
  return false;
}

/** climbsAbove(depth, components(text)), read straight from the text. */
export function textClimbsAbove(depth: number, text: string): boolean {
  let d = depth;
  let i = 0;
  const n = text.length;
  while (i < n) {
    let j = text.indexOf('/', i);
    if (j < 0) j = n;
    const len = j - i;
    if (len === 2 && text.charCodeAt(i) === 46 && text.charCodeAt(i + 1) === 46) {
      if (d === 0) return true;
      d--;
    } else if (len > 0 && !(len === 1 && text.charCodeAt(i) === 46)) d++;
    i = j + 1;
  }
  return false;
}

/**
 * When `text` begins with `rootHost` as whole components (repeated slashes collapsed, so
 * `//srv/lighty/x` does and `/srv/lighty2/x` does not), the components after that prefix;
 * otherwise null. `rootHost` '/' never matches: there is no prefix to strip.
 */
export function afterRootPrefix(text: string, rootHost: string): string[] | null {
  if (rootHost === '/' || !isAbsolute(text)) return null;
  // Cheap rejection first: the text must contain the root's last component.
  const rootComps = rootComponents(rootHost);
  if (!text.includes(rootComps[rootComps.length - 1]!)) return null;
  const comps = text.split('/').filter((c) => c !== '');
  if (comps.length < rootComps.length) return null;
  for (let i = 0; i < rootComps.length; i++) if (comps[i] !== rootComps[i]) return null;
  const rest = comps.slice(rootComps.length);
  if (rest.length > 0 && text.endsWith('/')) rest.push('.');
  return rest;
}

let lastRoot = '';
let lastRootComps: string[] = [];
function rootComponents(rootHost: string): string[] {
  if (rootHost !== lastRoot) {
    lastRoot = rootHost;
    lastRootComps = components(rootHost);
  }
  return lastRootComps;
}

/** The lexically clean form of a list of components: `.` dropped, `x/..` folded where possible. */
export function normalise(comps: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of comps) {
    if (c === '.') continue;
    if (c === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(c);
  }
  return out;
}

/** The relative text that leads from directory `from` to `to` (both '/'-based, clean). */
export function relative(from: string, to: string): string {
  // Whole components in common: the longest prefix that ends at a '/' (or the end) in both.
  const a = from === '/' ? '' : from;
  const b = to === '/' ? '' : to;
  const n = Math.min(a.length, b.length);
  let common = 0;
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) {
    if (a.charCodeAt(i) === SLASH) common = i;
    i++;
  }
  if (i === n && (a.length === n ? b.length === n || b.charCodeAt(n) === SLASH : a.charCodeAt(n) === SLASH)) common = n;
  let up = 0;
  for (let k = common; k < a.length; k++) if (a.charCodeAt(k) === SLASH) up++;
  let out = '';
  for (let k = 0; k < up; k++) out += k === 0 ? '..' : '/..';
  const down = b.slice(common + 1);
  if (down !== '') out += out === '' ? down : '/' + down;
  return out === '' ? '.' : out;
}

/** `p` as an absolute path: itself when absolute, else below `cwd` (both in the same encoding). */
export function absoluteFrom(cwd: string, p: string): string {
  return p.startsWith('/') ? p : (cwd === '/' ? '' : cwd) + '/' + p;
}

/** '/var/www' in the jail as the host sees it: '/srv/lighty/var/www'. */
export function hostOf(root: string, inside: string): string {
  if (root === '/') return inside;
  return inside === '/' ? root : root + inside;
}

/** Where a link's text points inside the root, read lexically ('/'-based); the root's host prefix is taken off a host path. */
export function lexicalTarget(text: string, insideDir: string, root: string): string {
  let comps: string[];
  if (isAbsolute(text)) comps = afterRootPrefix(text, root) ?? components(text);
  else comps = [...components(insideDir), ...components(text)];
  const n = normalise(comps);
  while (n[0] === '..') n.shift();
  return '/' + n.join('/');
}
