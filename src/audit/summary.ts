import { CompiledPolicy, type Policy } from '../config/policy.js';
import { rules, type Severity } from '../rules/registry.js';
import type { LinkRecord, StatusCounts, Summary } from './records.js';

/** The summary of a run, counted as its records are handed out. */

const zeroStatus = (): StatusCounts => ({ ok: 0, dangling: 0, loop: 0, notdir: 0, denied: 0, error: 0 });

export function emptySummary(policy?: Policy, asUser = false): Summary {
  const s: Summary = {
    links: 0,
    entries: 0,
    directories: 0,
    unreadable: 0,
    chroot: zeroStatus(),
    host: zeroStatus(),
    findings: { error: 0, warning: 0, info: 0 },
    rules: Object.fromEntries((policy ? CompiledPolicy.countedRules(policy, asUser) : rules.filter((r) => !('enabledBy' in r)).map((r) => r.id)).map((id) => [id, 0])),
    problems: 0,
    fixable: 0,
  };
  // Added only with an allow list: a report without one stays exactly as it was.
  if (policy && policy.allow.length > 0) Object.assign(s, { suppressed: 0, stale: 0 });
  return s;
}

/** Counts one finding of `rule` at `severity`. */
export function countFinding(s: Summary, rule: string, severity: Severity): void {
  s.findings[severity]++;
  s.rules[rule] = (s.rules[rule] ?? 0) + 1;
}

/** Counts one judged link. */
export function countLink(s: Summary, rec: LinkRecord): void {
  s.links++;
  s.chroot[rec.chroot.status]++;
  s.host[rec.host.status]++;
  if (rec.findings.length > 0) s.problems++;
  for (const f of rec.findings) countFinding(s, f.rule, f.severity);
  if (rec.fix) s.fixable++;
  if (rec.suppressed && s.suppressed !== undefined) s.suppressed += rec.suppressed.length;
}
