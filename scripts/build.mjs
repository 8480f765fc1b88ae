// Bundles the CLI and its audit thread, after tsc has built the library (dist/src) and its types.
//
// Why (2026-12-01, docs/performance.md): started from ~75 separate ES modules, `linkcheck
// --version` spent most of its time finding, reading and linking files, not running them. One file
// per thread, with commander, picocolors and picomatch inside, starts faster; ajv and fast-glob
// stay outside and are loaded only by a run that reads a config or expands a root glob.
//
// dist/src/linkcheck.js is the CLI (bin/linkcheck.js imports it). The audit thread replaces tsc's
// dist/src/audit-worker.js: it is loaded by URL, next to whichever module starts it, so the CLI
// bundle and the library both find it there; tsc's unbundled file, should a bare tsc run put it
// back, works the same. Both are built from src/ (not from dist/), so running this twice is the same
// as running it once.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  external: ['ajv', 'fast-glob'],
  // commander and picomatch are CommonJS and call require() for Node's own modules.
  banner: { js: "import { createRequire as __linkcheckRequire } from 'node:module';\nconst require = __linkcheckRequire(import.meta.url);" },
};

await build({ ...common, entryPoints: ['src/main.ts'], outfile: 'dist/src/linkcheck.js' });
await build({ ...common, entryPoints: ['src/audit-worker.ts'], outfile: 'dist/src/audit-worker.js', allowOverwrite: true });
