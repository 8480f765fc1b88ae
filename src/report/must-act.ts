import type { Finding, Summary } from '../audit/records.js';
import type { AppliedChange } from '../fix/applied-change.js';
import { type Severity, SEVERITY_RANK } from '../rules/registry.js';
import type { ReportContext } from './reporter.js';

/**
 * `--fix --quiet` is what cron runs, and cron mails whatever it prints: so it prints what it
 * changed, one compact line per finding that still makes the exit code non-zero (a person must
 * act on it), and one line counting the links another process changed under the run (the next
 * run looks at them again; a line each would mail a deploy's worth of noise). Nothing else.
 */
export function mustAct(f: Finding, failOn: ReportContext['failOn']): boolean {
  const min = failOn ?? 'error';
  return min !== 'never' && SEVERITY_RANK[f.severity] >= SEVERITY_RANK[min];
}

/**
 * Whether the run fails `failOn` (exit code 1): a finding at or above it, or under --fail-on info
 * a stale allow entry. What --quiet prints is exactly what makes this true.
 */
export function fails(summary: Summary, failOn: ReportContext['failOn']): boolean {
  const min = failOn ?? 'error';
  if (min === 'never') return false;
  if (min === 'info' && (summary.stale ?? 0) > 0) return true;
  return (Object.keys(summary.findings) as Severity[]).some((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[min] && summary.findings[s] > 0);
}

/** The changes worth a line each, and one line for those another process got in the way of. */
export function splitConcurrent(changes: readonly AppliedChange[]): { shown: AppliedChange[]; line: string } {
  const shown = changes.filter((c) => !c.concurrent);
  const n = changes.length - shown.length;
  const line = n === 0 ? '' : `left ${n} link${n === 1 ? '' : 's'} alone that another process changed during the run; the next run checks ${n === 1 ? 'it' : 'them'} again\n`;
  return { shown, line };
}
