import { createRequire } from 'node:module';

/** linkcheck's version from its package.json: three levels up from dist/src/core, two from src/core (tests run the sources). */
export function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === 'linkcheck' && pkg.version) return pkg.version;
    } catch {
      // try the next place
    }
  }
  return '0.0.0';
}
