import type { AuditEvent, Summary } from '../audit.js';
import type { AppliedChange } from '../fix/change.js';
import type { ReportHeader } from './json-shape.js';

/** What a format may need beyond the data itself. Formatters read no environment and no files. */
export interface ReportContext {
  color: boolean;
  /** Print nothing when there is nothing to say (clean audit, or --fix that changed nothing). */
  quiet: boolean;
  /** Whether fixes are being applied (true), only planned for --fix --dry-run, or neither. */
  mode: 'audit' | 'dry-run' | 'fix';
  /** --fail-on: with --fix --quiet, findings at or above it get a compact line each (default error). */
  failOn?: 'error' | 'warning' | 'info' | 'never';
}

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
