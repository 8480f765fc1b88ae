// Bundles the CLI and its audit thread, after tsc has built the library (dist/src) and its types.
//
// Why (2026-12-01, docs/performance.md): started from ~75 separate ES modules, `linkcheck
// --version` spent most of its time finding, reading and linking files, not running them. One file
// per thread, with commander, picocolors and picomatch inside, starts faster; ajv and fast-glob
// stay outside and are loaded only by a run that reads a config or expands a root glob.
//
// Each thread's code is a classic script (cli-bundle.js, worker-bundle.js: CommonJS, though named
// .js so the package ships them), loaded by src/cli/code-cache.ts through vm.Script with a V8 code
// cache trained here on a small audit (scripts/code-cache.mjs); Node 20 caches no ES module's
// code. dist/src/linkcheck.js (what bin/linkcheck.js imports) and dist/src/audit-worker.js with
// dist/src/run/audit-worker.js (the thread, started by URL next to whichever module starts it, so
// the CLI bundle and the library both find it) are small ES modules that load them. tsc's unbundled audit-worker.js, should a
// bare tsc run put it back, works the same. All is built from src/ (not from dist/), so running
// this twice is the same as running it once. The caches are not packed: V8 takes a cache only
// from its own version, and a build made where linkcheck runs makes its own.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  external: ['ajv', 'fast-glob'],
};
// The loader passes the bundle's own URL in place of import.meta.url (see src/cli/code-cache.ts).
const script = { ...common, format: 'cjs', define: { 'import.meta.url': '__bundleUrl' }, banner: { js: '// A classic script run by code-cache.js (vm.Script), not an ES module.' } };
const loader = (bundle, exports, from = './') => ({
  ...common,
  format: 'esm',
  stdin: { contents: `import { loadBundle } from './cli/code-cache.ts';\n${exports}loadBundle(new URL('${from}${bundle}', import.meta.url));\n`, resolveDir: 'src', loader: 'ts', sourcefile: `load-${bundle}` },
});

await build({ ...script, entryPoints: ['src/cli/main.ts'], outfile: 'dist/src/cli-bundle.js' });
await build({ ...script, entryPoints: ['src/run/audit-worker.ts'], outfile: 'dist/src/worker-bundle.js' });
await build({ ...loader('cli-bundle.js', 'export const { main } = '), outfile: 'dist/src/linkcheck.js' });
// The thread is started by URL next to the module that starts it: beside the CLI bundle, and
// beside run/threads.js in the library (where it takes the place of tsc's unbundled one).
await build({ ...loader('worker-bundle.js', ''), outfile: 'dist/src/audit-worker.js' });
await build({ ...loader('worker-bundle.js', '', '../'), outfile: 'dist/src/run/audit-worker.js', allowOverwrite: true });

// A vm.Script has no module loader: an import() in a bundle would fail at run time, so none may be there.
for (const f of ['cli-bundle.js', 'worker-bundle.js']) {
  if (/\bimport\(/.test(readFileSync(`dist/src/${f}`, 'utf8'))) throw new Error(`dist/src/${f} has an import(): load it with require (see roots.ts)`);
}

const trained = spawnSync(process.execPath, ['scripts/code-cache.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (trained.status !== 0) throw new Error(`scripts/code-cache.mjs failed (${trained.status ?? trained.signal})`);
