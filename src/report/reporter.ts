import type { AuditEvent, CheckRecord, StaleAllow, Summary } from '../audit/records.js';
import type { AppliedChange } from '../fix/applied-change.js';
import type { Severity } from '../rules/registry.js';
import type { ReportHeader } from './json-shape.js';

/** What a format may need beyond the data itself. Formatters read no environment and no files. */
export interface ReportContext {
  color: boolean;
  /** --quiet: only what is at or above --fail-on, nothing when the exit code is 0; with --fix, what changed too. */
  quiet: boolean;
  /** Whether fixes are being applied (true), only planned for --fix --dry-run, or neither. */
  mode: 'audit' | 'dry-run' | 'fix';
  /**
   * Pretty and compact formats: each scanned path (host path, byte string) with the name paths
   * below it are shown under ('' when only one path is scanned: paths relative to it). Absent:
   * host paths (--absolute-paths).
   */
  scanLabels?: ReadonlyArray<readonly [string, string]>;
  /** Columns the pretty format fits its headlines into (a terminal's width); absent: no limit. */
  width?: number;
  /** The run itself, for formats that record it (sarif, prometheus): plain data, so it crosses to the audit thread. */
  run: RunInfo;
  /** --fail-on: with --quiet, only findings at or above it are printed (default error). */
  failOn?: 'error' | 'warning' | 'info' | 'never';
  /**
   * The pretty format's caps: problem links listed per rule, and changes listed, before one line
   * counts the rest (--all: Infinity). Absent: no cap.
   */
  limits?: { links: number; changes: number };
  /** --fix --journal, as given: where the changes past the cap are (`linkcheck undo J --list`). */
  journal?: string;
}

/** What a report may say about the run beyond its findings. */
export interface RunInfo {
  /** linkcheck's version. */
  version: string;
  /** When the run started, in milliseconds since the epoch. */
  startedAt: number;
  /** Every rule's documentation, in code order. */
  rules: readonly RuleDoc[];
}

/** A rule's documentation as data (a rule's check function cannot cross to another thread). */
export interface RuleDoc {
  id: string;
  code: string;
  severity: Severity;
  title: string;
  fixable: boolean;
  what: string;
  why: string;
  fix: string;
  /** What `linkcheck explain <rule>` prints. */
  explain: string;
}

/** Milliseconds since the epoch. Formats that time the run are given one; they never read the clock themselves. */
export type Clock = () => number;

/**
 * A report format: pure functions from the run's data to text. They are called in order (begin,
 * one event at a time, end) and return what to write, so huge trees stream.
 */
export interface Reporter {
  begin(header: ReportHeader): string;
  event(ev: AuditEvent): string;
  /**
   * A failed --require or preset check on a path that is not a link (after the last event).
   * The pretty format's lines for them are written by report/config-lines.ts.
   */
  check?(c: CheckRecord): string;
  /** `changes`: what --fix did (empty otherwise); `extras`: what a config added to the run. */
  end(summary: Summary, changes: readonly AppliedChange[], extras?: ReportExtras): string;
}

/** Run-level data beyond the summary, present only when the run was configured for it. */
interface ReportExtras {
  /** Allow entries that matched nothing (defined when the run has an allow list). */
  stale?: StaleAllow[] | undefined;
}
