import type { Summary } from '../audit/records.js';
import { fails } from '../report/must-act.js';

/** Exit codes: --help prints EXIT_CODES; the README and the man page are held equal to it by a test. */
export const EXIT = { clean: 0, findings: 1, usage: 2, internal: 70, busy: 75, interrupted: 130 } as const;

/** Every exit code and its meaning, in order. */
export const EXIT_CODES: ReadonlyArray<readonly [number, string]> = [
  [EXIT.clean, 'nothing at or above --fail-on (after --fix: nothing left)'],
  [EXIT.findings, 'findings at or above --fail-on, or a fix that failed and was rolled back'],
  [EXIT.usage, 'usage or fatal error (bad option, missing path, unknown command, bad config, a report that cannot be written): one line on stderr'],
  [EXIT.internal, 'internal error: a bug in linkcheck; report it with the command line'],
  [EXIT.busy, "busy: another --fix or undo holds the root's lock (after --wait); nothing changed"],
  [EXIT.interrupted, '--fix stopped by SIGINT/SIGTERM between two links; run it again to finish'],
];

export const FAIL_ON = ['error', 'warning', 'info', 'never'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** 1 when any finding is at or above `failOn` (a stale allow entry counts as info). */
export function exitCodeFor(summary: Summary, failOn: FailOn): number {
  return fails(summary, failOn) ? EXIT.findings : EXIT.clean;
}

/** Colour only for a terminal, unless NO_COLOR, FORCE_COLOR or --no-color say otherwise. */
export function colorWanted(flag: boolean, env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY && env.TERM !== 'dumb';
}
