import { createRequire } from 'node:module';
import type FastGlob from 'fast-glob';
import { UsageError } from '../core/errors.js';

/**
 * fast-glob, loaded only for a root that may be a glob: importing it is a noticeable share of
 * start-up (docs/performance.md, "Figures behind the code"), and most runs name one plain root.
 */
let fastGlob: typeof FastGlob | undefined;
const fg = (): typeof FastGlob => (fastGlob ??= createRequire(import.meta.url)('fast-glob') as typeof FastGlob);
/** Every pattern fast-glob calls dynamic holds one of these: one without them is a plain path. */
const GLOB_CHARS = /[\\*?![({]/;

/** Whether a --root (or config root) is a glob naming many jails rather than one directory. */
export function isRootGlob(root: string): boolean {
  return GLOB_CHARS.test(root) && fg().isDynamicPattern(root);
}

/**
 * The jail roots a glob names: directories only, links not followed (a link among the jails could
 * lead anywhere), sorted by bytes so the report's order is the same on every run. Globs are
 * expanded on the real disk.
 */
export function expandRoots(patterns: readonly string[], cwd: string): string[] {
  const out = new Set<string>();
  for (const p of patterns) {
    if (p === '') throw new UsageError('an empty root was given: name the jail root directory');
    if (!isRootGlob(p)) {
      out.add(p);
      continue;
    }
    const found = fg().sync(p, { cwd, absolute: true, onlyDirectories: true, followSymbolicLinks: false, unique: true, suppressErrors: true });
    if (found.length === 0) throw new UsageError(`root ${p} matches no directory: check the glob (links are not followed)`);
    for (const f of found) out.add(f);
  }
  return [...out].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** A scan path for one of many roots: inside that root, whether written /var/www or var/www. */
export function pathInRoot(root: string, path: string): string {
  const rel = path.replace(/^\/+/, '');
  const base = root.replace(/\/+$/, '');
  return rel === '' ? base || '/' : `${base}/${rel}`;
}
