import type { AuditEvent, Summary } from '../audit.js';
import type { AppliedChange } from '../fix/change.js';
import type { Severity } from '../rules/index.js';
import type { ReportHeader } from './json-shape.js';

/** What a format may need beyond the data itself. Formatters read no environment and no files. */
export interface ReportContext {
  color: boolean;
  /** Print nothing when there is nothing to say (clean audit, or --fix that changed nothing). */
  quiet: boolean;
  /** Whether fixes are being applied (true), only planned for --fix --dry-run, or neither. */
  mode: 'audit' | 'dry-run' | 'fix';
  /** The run itself, for formats that record it (sarif, prometheus): plain data, so it crosses to the audit thread. */
  run: RunInfo;
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
  /** `changes`: what --fix did (empty otherwise). */
  end(summary: Summary, changes: readonly AppliedChange[]): string;
}
