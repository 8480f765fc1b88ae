import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheBytes, cacheFileOf, compileBundle } from '../../../src/cli/code-cache.js';
import { ensureBuilt } from '../../support/build.js';
import { removeDir, tempDir } from '../../support/disk.js';
import { REPO } from '../../support/repo.js';

const dir = tempDir('code-cache');
beforeAll(() => ensureBuilt());
afterAll(() => removeDir(dir));

/**
 * Loads the bundle in a new process, as a run does: in one process V8 keeps what it compiled,
 * and a second compile of the same text would not look at the cache at all.
 */
function load(file: string): { rejected: boolean | null; version: string; twice: number; url: string } {
  const code = `import { compileBundle } from ${JSON.stringify(`${REPO}/dist/src/cli/code-cache.js`)};
const c = compileBundle(${JSON.stringify(file)}); const e = c.run();
console.log(JSON.stringify({ rejected: c.script.cachedDataRejected ?? null, version: e.version, twice: e.twice(21), url: e.url }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { rejected: boolean | null; version: string; twice: number; url: string };
}

/** A bundle whose answer shows which text ran: `version` and a function compiled only when called. */
function bundle(name: string, version: string): string {
  const file = `${dir}/${name}.js`;
  fs.writeFileSync(file, `module.exports = { version: ${JSON.stringify(version)}, twice: (n) => n * 2, url: __bundleUrl };\n`);
  return file;
}

/** Trains a cache for `file` as the build does: run it, then write what V8 compiled. */
function train(file: string): Buffer {
  const compiled = compileBundle(file);
  (compiled.run().twice as (n: number) => number)(2);
  const bytes = cacheBytes(compiled);
  fs.writeFileSync(cacheFileOf(file), bytes);
  return bytes;
}

describe('the code cache of a bundle', () => {
  it('made by the build, is taken by V8 for both bundles the build ships with', () => {
    for (const name of ['cli-bundle', 'worker-bundle']) {
      const file = `${REPO}/dist/src/${name}.js`;
      expect(fs.existsSync(cacheFileOf(file)), `${name}: no cache beside it`).toBe(true);
      // Compiled in a new process, as a run compiles it; not run (the CLI's bundle would start).
      const code = `import { compileBundle } from ${JSON.stringify(`${REPO}/dist/src/cli/code-cache.js`)};
console.log(String(compileBundle(${JSON.stringify(file)}).script.cachedDataRejected));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
      expect(r.stdout.trim(), `${name}: ${r.stderr}`).toBe('false');
    }
  });

  it('is taken by V8 for the text it was made from (positive control)', () => {
    const file = bundle('fresh', 'v1');
    train(file);
    expect(load(file)).toEqual({ rejected: false, version: 'v1', twice: 42, url: `file://${file}` });
  });

  it('is not used for another text of the same length: the new text runs', () => {
    const file = bundle('stale', 'v1');
    train(file);
    bundle('stale', 'v2');
    // No cache was offered at all (V8 would check the length only, and the length is the same).
    expect(load(file)).toMatchObject({ rejected: null, version: 'v2', twice: 42 });
  });

  it('is ignored when missing, cut short or not a cache at all, and the bundle runs the same', () => {
    const file = bundle('broken', 'v1');
    const good = train(file);
    const text = fs.readFileSync(file);
    const header = good.length - good.subarray(good.indexOf(text)).length;
    const variants: Array<Buffer | null> = [
      null,
      Buffer.alloc(0),
      good.subarray(0, 10),
      good.subarray(0, header + text.length),
      good.subarray(0, good.length - 100),
      Buffer.concat([good.subarray(0, header + text.length), Buffer.alloc(good.length - header - text.length, 0x5a)]),
      Buffer.from('not a cache\n'.repeat(50)),
    ];
    for (const v of variants) {
      if (v === null) fs.rmSync(cacheFileOf(file), { force: true });
      else fs.writeFileSync(cacheFileOf(file), v);
      const loaded = load(file);
      expect(loaded.rejected, `variant of ${v?.length ?? 'no'} bytes`).not.toBe(false);
      expect(loaded).toMatchObject({ version: 'v1', twice: 42 });
    }
  });
});
