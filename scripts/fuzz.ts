/**
 * Long fuzzing runs: `npm run fuzz -- --links N --seed S [--per-tree K]`.
 *
 * Builds seeded adversarial trees (test/support/random-tree.ts) of about K links each (default
 * 2,000) until N links in all, and for each tree: audits it through the library and through the
 * CLI's JSON (-j 1 and -j 2 in turn) and compares every link, in both views, with the kernel
 * (openat2 RESOLVE_IN_ROOT and open); then fixes a fresh copy with a journal, checks every
 * rewritten link with the kernel and that nothing else moved, runs the fix again (a no-op) and
 * undoes it, checking the tree is back. Prints one summary line; exits 1 on any disagreement,
 * 2 on bad arguments or when the kernel oracle cannot run. The same seed gives the same trees.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSeed } from '../test/kernel/fix-judge.js';
import { disagreements, viaCli, viaLibrary } from '../test/kernel/judge.js';
import { oracleUnavailableReason } from '../test/kernel/oracle.js';
import { randomTree } from '../test/support/random-tree.js';
import { listLinks, materialiseRandom } from '../test/support/tree.js';

interface Args {
  links: number;
  seed: number;
  perTree: number;
}

function usage(message: string): never {
  process.stderr.write(`fuzz: ${message}\nusage: npm run fuzz -- --links N --seed S [--per-tree K]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const out: Args = { links: 10_000, seed: Date.now() % 1_000_000, perTree: 2_000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const key = ({ '--links': 'links', '--seed': 'seed', '--per-tree': 'perTree' } as const)[flag as '--links'];
    if (key === undefined) usage(`unknown argument ${JSON.stringify(flag)}`);
    const value = argv[++i];
    if (value === undefined || !/^\d+$/.test(value)) usage(`${flag} takes a whole number`);
    out[key] = Number(value);
  }
  if (out.links < 1 || out.perTree < 20) usage('--links must be at least 1 and --per-tree at least 20');
  return out;
}

const args = parseArgs(process.argv.slice(2));
const unavailable = oracleUnavailableReason();
if (unavailable !== null) {
  process.stderr.write(`fuzz: the kernel oracle cannot run here: ${unavailable}\n`);
  process.exit(2);
}

const journalDir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'linkcheck-fuzz-'));
const started = Date.now();
let trees = 0;
let audited = 0;
let planned = 0;
let rewritten = 0;
let putBack = 0;
const problems: string[] = [];
let seed = args.seed;
try {
  while (audited < args.links) {
    const jobs = trees % 2 === 0 ? '1' : '2';
    // The audit, judged link by link.
    const t = materialiseRandom(randomTree(seed, { links: args.perTree }), 'linkcheck-fuzz-');
    try {
      const onDisk = listLinks(t.root);
      problems.push(...disagreements(`seed ${seed} (library)`, t.root, viaLibrary(t.root, t.root), onDisk));
      problems.push(...disagreements(`seed ${seed} (CLI json -j ${jobs})`, t.root, viaCli(t.root, t.root, ['-j', jobs]), onDisk));
      audited += onDisk.length;
    } catch (err) {
      problems.push(`seed ${seed}: the audit failed: ${(err as Error).message}`);
    } finally {
      t.cleanup();
    }
    // The fix, the second fix and undo on a fresh copy, judged likewise.
    try {
      const r = runSeed(seed, journalDir, args.perTree, ['-j', jobs]);
      planned += r.planned;
      rewritten += r.changed;
      putBack += r.notChanged.length;
      problems.push(...r.problems.map((p) => `seed ${seed} (fix -j ${jobs}): ${p}`));
    } catch (err) {
      problems.push(`seed ${seed}: the fix failed: ${(err as Error).message}`);
    }
    trees++;
    seed++;
    if (problems.length > 0) break;
  }
} finally {
  fs.rmSync(journalDir, { recursive: true, force: true });
}

for (const p of problems.slice(0, 50)) process.stderr.write(`${p}\n`);
const secs = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(
  `fuzz: seeds ${args.seed}..${seed - 1} (${trees} trees of ~${args.perTree} links), ${audited} links audited and compared with the kernel in both views ` +
    `(library and CLI), ${planned} fixes planned, ${rewritten} rewritten and confirmed by the kernel, ${putBack} left alone with a reason, ` +
    `undone and checked; ${problems.length} disagreements; ${secs} s\n`,
);
process.exitCode = problems.length > 0 ? 1 : 0;
