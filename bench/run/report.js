// @ts-check
// The bench's results: a Markdown table on stdout, and the table with the machine, the trees and
// the exact commands in bench/out/results.md.
import { GENERATOR_VERSION } from '../gen-tree.js';
import { STARTUP_ENTRIES } from './targets.js';
import { sizeLabel } from './util.js';

/** @typedef {import('./sizes.js').Row} Row */
/** @typedef {{ label: string, entries: number, stats: import('./trees.js').TreeStats, rows: Row[], tree: string }} Section */
/** @typedef {{ rows: import('./startup.js').StartupRow[], commands: import('./sizes.js').Command[] }} Startup */

/**
 * @param {Section[]} sections @param {Startup | null} startup
 */
export function table(sections, startup) {
  const out = ['| size | command | median s | min s | peak RSS MB (median) | / find | / node floor | / symlinks | target |', '|---|---|---:|---:|---:|---:|---:|---:|---|'];
  for (const s of sections) {
    for (const r of s.rows) out.push(`| ${r.size} | ${r.cmd} | ${r.median} | ${r.min} | ${r.rss} | ${r.find} | ${r.floor} | ${r.peer} | ${r.target} |`);
  }
  if (startup) {
    out.push('', '| start-up | command | median s | min s | peak RSS MB (median) | ratio | vs | target |', '|---|---|---:|---:|---:|---:|---|---|');
    for (const r of startup.rows) out.push(`| ${r.size} | ${r.cmd} | ${r.median} | ${r.min} | ${r.rss} | ${r.ratio} | ${r.vs} | ${r.target} |`);
  }
  return out.join('\n');
}

/**
 * What the Markdown report says about one run.
 * @typedef {object} RunFacts
 * @property {import('./options.js').Options} o
 * @property {ReturnType<typeof import('./machine.js').machineInfo>} machine
 * @property {Date} started @property {string} loadAtStart
 * @property {string | null} timeBin @property {string | null} symlinksBin
 * @property {Section[]} sections
 * @property {Startup | null} startup @property {import('./startup.js').StartupTree | null} startupTree
 * @property {Map<string, string>} commandLines
 * @property {import('./sizes.js').Failure[]} failures
 */

/** @param {RunFacts} f @param {string} tableText */
export function markdown(f, tableText) {
  return [...header(f), '', tableText, '', ...commands(f), ...failureNotes(f)].join('\n');
}

/** @param {RunFacts} f */
function header({ o, machine, started, loadAtStart, timeBin, symlinksBin, sections, startup, startupTree }) {
  const md = ['# linkcheck benchmark results', ''];
  md.push(`- date: ${started.toISOString()}`);
  md.push(`- machine: ${machine.nproc} CPUs (nproc), ${machine.cpu}, ${machine.memGB} GiB RAM, ${machine.kernel}`);
  md.push(`- node: ${machine.node}; load average at start: ${loadAtStart}`);
  md.push(`- work dir: ${o.work} (${machine.fsType(o.work)})`);
  md.push(`- runs: ${o.runs} per command, interleaved per round (order rotated each round); warm cache (one untimed \`find\` first)`);
  md.push(`- wall time: hrtime around spawnSync of \`sh -c CMD\`; peak RSS: ${timeBin ? '`/usr/bin/time -f %M` (max RSS of the command)' : 'n/a (/usr/bin/time not found)'}`);
  md.push(`- trees: bench/gen-tree.js v${GENERATOR_VERSION}, seed ${o.seed}, link ratio ${o.linkRatio}`);
  for (const s of sections) {
    md.push(`  - ${s.label}: ${s.stats.entries} entries (dirs ${s.stats.dirs}, files ${s.stats.files}, links ${s.stats.links}) at ${s.tree}`);
  }
  md.push(`- peers: symlinks ${symlinksBin ? 'yes' : 'not installed'}; fix runs ${o.skipFix ? 'skipped' : 'on a fresh `cp -a` copy per run (copy not timed)'}`);
  if (startup && startupTree) md.push(`- start-up: ${o.startupRuns} interleaved rounds (order rotated); the clean tree is the ${sizeLabel(STARTUP_ENTRIES)} tree with its ${startupTree.replaced} problem links replaced by clean relative ones (bench/clean-tree.js)`);
  return md;
}

/** @param {RunFacts} f */
function commands({ commandLines, startup, startupTree }) {
  const md = ['Ratios are of medians: audit commands against `find`, Node\'s floor (bench/walk-floor.js) and `symlinks -rv`; `linkcheck --fix` against `symlinks -rc`; start-up rows against `node -e 0`.', ''];
  md.push('## Commands', '', 'TREE is the generated tree (for fix runs: a fresh `cp -a` copy at the same path).', '', '```sh');
  for (const [id, cmd] of commandLines) md.push(`# ${id}`, cmd);
  if (startup && startupTree) for (const c of startup.commands) md.push(`# ${c.id}`, c.cmd.split(startupTree.tree).join('CLEAN30K'));
  md.push('```', '');
  return md;
}

/** @param {RunFacts} f */
function failureNotes({ failures }) {
  if (!failures.length) return [];
  const md = ['## Failures', ''];
  for (const f of failures) {
    md.push(`- ${f.size} round ${f.round + 1} ${f.id}: exit ${f.status ?? '-'} ${f.signal ?? ''}${f.crashed && !f.timedOut ? ' (crashed)' : ''}`, '', '```', f.stderr.trim().slice(-1500), '```', '');
  }
  return md;
}
