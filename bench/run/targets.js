// @ts-check
// Targets from bench/README.md, keyed by tree size (entries).

/** @type {{ ndjsonVsSymlinks: Record<number, number>, ndjsonVsFind: Record<number, number>, ndjsonRssMB: Record<number, number>, fixRatio: Record<number, number>, versionRatio: number, quietCleanS: number }} */
export const TARGETS = {
  // ndjson audit wall time against `symlinks -rv` (the strongest peer) and against `find`
  ndjsonVsSymlinks: { 30000: 1.3, 100000: 1.3, 300000: 0.85, 1000000: 0.85 },
  ndjsonVsFind: { 1000000: 1.5 },
  ndjsonRssMB: { 300000: 100, 1000000: 150 },
  fixRatio: { 30000: 2, 100000: 2, 300000: 2, 1000000: 2 },
  // start-up: `linkcheck --version` against `node -e 0`, and a clean 30k tree's --quiet check
  versionRatio: 1.5,
  quietCleanS: 0.25,
};

/** The start-up row's clean tree: this many entries, whatever --sizes says. */
export const STARTUP_ENTRIES = 30000;
