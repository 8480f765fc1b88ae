/**
 * Shared by the stress tests: run the CLI every way a report can be asked for, with a time limit,
 * and hold what comes out to the contract (a correct report, or exit 2 with one line).
 */
import { spawnCliTimed, type TimedRun } from './cli.js';

const FORMATS = ['pretty', 'json', 'ndjson'] as const;
const JOBS = ['1', '2'] as const;

/**
 * What is wrong with one run, by the contract: it ended by itself in time, with 0 or 1 and a
 * report, or with 2 and exactly one line `linkcheck: ...` on stderr; never a stack trace.
 */
export function contractProblems(r: TimedRun): string[] {
  const out: string[] = [];
  if (r.signal !== null) out.push(`${r.label}: killed by ${r.signal} after ${r.ms} ms (a hang or a crash)`);
  else if (r.status === 2) {
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    if (lines.length !== 1 || !lines[0]!.startsWith('linkcheck: ')) out.push(`${r.label}: exit 2 without exactly one "linkcheck: " line on stderr: ${r.stderr.slice(0, 500)}`);
  } else if (r.status !== 0 && r.status !== 1) out.push(`${r.label}: exit ${String(r.status)}: ${r.stderr.slice(0, 500)}`);
  if (/^\s+at .+:\d+:\d+\)?$/m.test(r.stderr) || r.stderr.includes('internal error')) out.push(`${r.label}: stack trace or internal error: ${r.stderr.slice(0, 500)}`);
  return out;
}

export interface AllWays {
  /** format -> jobs -> run */
  runs: Map<string, Map<string, TimedRun>>;
  /** The JSON report's text (-j 1), when the runs produced reports. */
  json: string | null;
  problems: string[];
}

/**
 * Audits `args` in every format with -j 1 and -j 2. Each run must keep the contract; the two job
 * counts must give the same bytes; the ndjson report must carry the same links as the JSON one.
 */
export function auditAllWays(args: readonly string[], timeoutMs = 60_000): AllWays {
  const runs = new Map<string, Map<string, TimedRun>>();
  const problems: string[] = [];
  for (const format of FORMATS) {
    const byJobs = new Map<string, TimedRun>();
    runs.set(format, byJobs);
    for (const j of JOBS) {
      const r = spawnCliTimed([...args, '--format', format, '-j', j], timeoutMs);
      byJobs.set(j, r);
      problems.push(...contractProblems(r));
    }
    const [a, b] = [byJobs.get('1')!, byJobs.get('2')!];
    if (a.status !== b.status) problems.push(`${format}: exit ${String(a.status)} with -j 1, ${String(b.status)} with -j 2`);
    else if (!a.stdout.equals(b.stdout)) problems.push(`${format}: the report differs between -j 1 and -j 2`);
  }
  const j1 = runs.get('json')!.get('1')!;
  let json: string | null = null;
  if (j1.status === 0 || j1.status === 1) {
    json = j1.stdout.toString('utf8');
    const nd = runs.get('ndjson')!.get('1')!.stdout.toString('utf8').split('\n').filter((l) => l !== '');
    const doc = JSON.parse(json) as { links: unknown[]; unreadable: unknown[] };
    const ndLinks = nd.slice(0, -1).map((l) => JSON.stringify(JSON.parse(l)));
    const summary = JSON.parse(nd[nd.length - 1] ?? '{}') as { type?: string; unreadable?: unknown[] };
    if (summary.type !== 'summary') problems.push('ndjson: the last line is not the summary');
    if (ndLinks.length !== doc.links.length || ndLinks.some((l, i) => l !== JSON.stringify(doc.links[i])))
      problems.push(`ndjson: ${ndLinks.length} link lines, json: ${doc.links.length} links, or they differ`);
    if (JSON.stringify(summary.unreadable) !== JSON.stringify(doc.unreadable)) problems.push('ndjson and json disagree on unreadable entries');
  }
  return { runs, json, problems };
}

/** A printed seed: the same value replays the run. LINKCHECK_SEED overrides it. */
export function seedFor(name: string): number {
  const fixed = process.env.LINKCHECK_SEED;
  const seed = fixed !== undefined && /^\d+$/.test(fixed) ? Number(fixed) : Math.floor(Math.random() * 2 ** 31);
  // eslint-disable-next-line no-console
  console.log(`${name}: seed ${seed} (replay with LINKCHECK_SEED=${seed})`);
  return seed;
}
