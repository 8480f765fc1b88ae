// @ts-check
// bench/run.js's command line.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseCount } from '../gen-tree.js';
import { HERE } from './util.js';

export function usage() {
  return `usage: node bench/run.js [--sizes 30k,100k,300k,1m] [--runs 5] [--keep] [--smoke]
        [--linkcheck "node bin/linkcheck.js"] [--work DIR] [--out FILE]
        [--seed 1] [--link-ratio 0.1] [--skip-fix] [--cooldown 90] [--timeout 900]
        [--startup-runs 21] [--skip-startup]`;
}

/** @typedef {ReturnType<typeof parse>} Options */

/** @param {string[]} argv */
export function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string' },
      runs: { type: 'string' },
      keep: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      linkcheck: { type: 'string', default: 'node bin/linkcheck.js' },
      work: { type: 'string', default: path.join(os.tmpdir(), 'linkcheck-bench') },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'link-ratio': { type: 'string', default: '0.1' },
      'skip-fix': { type: 'boolean', default: false },
      cooldown: { type: 'string' },
      timeout: { type: 'string' },
      'startup-runs': { type: 'string' },
      'skip-startup': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const smoke = values.smoke;
  const o = {
    smoke,
    help: values.help,
    sizes: (values.sizes ?? (smoke ? '10k' : '30k,100k,300k,1m')).split(',').map((s) => parseCount(s.trim())),
    runs: Number(values.runs ?? (smoke ? 1 : 5)),
    keep: values.keep,
    linkcheck: values.linkcheck,
    work: path.resolve(values.work),
    out: path.resolve(values.out ?? path.join(HERE, 'out', smoke ? 'results-smoke.md' : 'results.md')),
    seed: Number(values.seed) >>> 0,
    linkRatio: Number(values['link-ratio']),
    skipFix: values['skip-fix'],
    cooldownMs: Number(values.cooldown ?? (smoke ? 0 : 90)) * 1000,
    // seconds one command may run before it is killed and counted as failed
    timeoutS: Number(values.timeout ?? (smoke ? 120 : 900)),
    startupRuns: Number(values['startup-runs'] ?? (smoke ? 3 : 21)),
    skipStartup: values['skip-startup'],
  };
  if (!(o.startupRuns >= 1) || !Number.isInteger(o.startupRuns)) throw new Error('--startup-runs must be a positive integer');
  if (!(o.runs >= 1) || !Number.isInteger(o.runs)) throw new Error('--runs must be a positive integer');
  if (!(o.linkRatio >= 0 && o.linkRatio < 1)) throw new Error('--link-ratio must be in [0, 1)');
  return o;
}
