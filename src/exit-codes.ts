import type { Summary } from './audit.js';
import { type Severity, SEVERITY_RANK } from './rules/index.js';

/** Exit codes: documented in the README and in --help. */
export const EXIT = { clean: 0, findings: 1, usage: 2, internal: 70, busy: 75, interrupted: 130 } as const;

export const FAIL_ON = ['error', 'warning', 'info', 'never'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** 1 when any finding is at or above `failOn` (a stale allow entry counts as info). */
export function exitCodeFor(summary: Summary, failOn: FailOn): number {
  if (failOn === 'never') return EXIT.clean;
  if (failOn === 'info' && (summary.stale ?? 0) > 0) return EXIT.findings;
  const min = SEVERITY_RANK[failOn];
  for (const s of Object.keys(summary.findings) as Severity[]) if (SEVERITY_RANK[s] >= min && summary.findings[s] > 0) return EXIT.findings;
  return EXIT.clean;
}

/** Colour only for a terminal, unless NO_COLOR, FORCE_COLOR or --no-color say otherwise. */
export function colorWanted(flag: boolean, env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY && env.TERM !== 'dumb';
}
