/**
 * Where the checkout and its built CLI are. Found by walking up to bin/linkcheck.js, so the same
 * code works from test/support and compiled into dist/ (the fuzzer, scripts/fuzz.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = ((): string => {
  for (let d = path.dirname(fileURLToPath(import.meta.url)); path.dirname(d) !== d; d = path.dirname(d))
    if (fs.existsSync(path.join(d, 'bin', 'linkcheck.js'))) return d;
  throw new Error('cannot find the checkout (bin/linkcheck.js) above test/support');
})();

/** The CLI entry (bin/linkcheck.js), which imports the build in dist/. */
export const BIN = `${REPO}/bin/linkcheck.js`;

/** The module the CLI entry imports (dist layout moves: read it from bin/linkcheck.js). */
export function cliModule(): string {
  const m = /from\s+'([^']+)'/.exec(fs.readFileSync(BIN, 'utf8'));
  if (!m) throw new Error(`cannot find the import in ${BIN}`);
  return path.resolve(path.dirname(BIN), m[1]!);
}

/** The built library entry (package.json "main"), for child processes that use the library. */
export function libModule(): string {
  const pkg = JSON.parse(fs.readFileSync(`${REPO}/package.json`, 'utf8')) as { main: string };
  return path.resolve(REPO, pkg.main);
}
