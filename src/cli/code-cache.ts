import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/**
 * Loads a bundle (a classic script, see scripts/build.mjs) with the V8 code cache the build made
 * for it, so a run does not parse and compile again the functions every run needs.
 *
 * Why: Node 20 has no compile cache of its own for ES modules (module.enableCompileCache came in
 * Node 22); through vm.Script, a cache trained on a small audit cuts V8's parsing and compiling
 * by about a third (docs/performance.md, "Figures behind the code").
 *
 * The cache is only a hint. It is used only for the exact bundle text it was made from (the
 * cache file carries that text and it is compared byte for byte: V8 itself checks the length
 * only); V8 rejects it for another V8 version or other flags; a missing or unreadable file is
 * no cache. In each case the bundle is compiled from its text, so the run is the same, only
 * slower. The cache is written by the build, next to the bundle, never at run time: whoever can
 * write it can write the bundle too.
 */

/** The cache file's first bytes; then the bundle's length in bytes (4, little-endian), its text, V8's data. */
const MAGIC = Buffer.from('linkcheck code cache 1\n');

/** The cache file beside a bundle. */
export function cacheFileOf(bundle: string): string {
  return bundle.replace(/\.js$/, '') + '.cache';
}

export interface CompiledBundle {
  script: Script;
  /** Runs the bundle's top level once and answers its exports; `require` replaces the bundle's own. */
  run(require?: NodeJS.Require): Record<string, unknown>;
  /** The bundle's text: what a cache for it must carry. */
  text: Buffer;
}

/** Compiles the bundle at `bundle` (a file path), with its cache when the cache is for this very text. */
export function compileBundle(bundle: string): CompiledBundle {
  const text = readFileSync(bundle);
  const cachedData = cacheFor(text, bundle);
  // The wrapper opens on the bundle's first line, so line numbers in stack traces stay the bundle's.
  const source = '(function (exports, require, module, __filename, __dirname, __bundleUrl) {' + text.toString('utf8') + '\n})';
  const script = new Script(source, cachedData ? { filename: bundle, cachedData } : { filename: bundle });
  const run = (require: NodeJS.Require = createRequire(bundle)): Record<string, unknown> => {
    const module = { exports: {} as Record<string, unknown> };
    (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, require, module, bundle, dirname(bundle), pathToFileURL(bundle).href);
    return module.exports;
  };
  return { script, run, text };
}

/**
 * Loads and runs the bundle at `url` (a file: URL) and answers its exports. Called by the small
 * loaders scripts/build.mjs writes (dist/src/linkcheck.js, audit-worker.js), which knip cannot see.
 * @public
 */
export function loadBundle(url: URL): Record<string, unknown> {
  return compileBundle(fileURLToPath(url)).run();
}

/** The cache file's bytes for a compiled bundle (after a training run, so it holds what ran). */
export function cacheBytes(compiled: CompiledBundle): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(compiled.text.length);
  return Buffer.concat([MAGIC, length, compiled.text, compiled.script.createCachedData()]);
}

/** V8's data from the cache beside `bundle`, when that cache was made for exactly `text`. */
function cacheFor(text: Buffer, bundle: string): Buffer | undefined {
  let cache: Buffer;
  try {
    cache = readFileSync(cacheFileOf(bundle));
  } catch {
    return undefined;
  }
  const start = MAGIC.length + 4;
  if (cache.length < start || !cache.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const length = cache.readUInt32LE(MAGIC.length);
  if (length !== text.length || cache.length <= start + length) return undefined;
  if (!cache.subarray(start, start + length).equals(text)) return undefined;
  return cache.subarray(start + length);
}
