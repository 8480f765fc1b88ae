import { compactReporter } from './compact.js';
import { jsonReporter } from './json.js';
import { ndjsonReporter } from './ndjson.js';
import { prettyReporter } from './pretty.js';
import { prometheusReporter } from './prometheus.js';
import type { Clock, Reporter, ReportContext } from '../reporter.js';
import { sarifReporter } from './sarif.js';
import { withConfigLines } from '../config-lines.js';
import { heldOpening } from '../held-opening.js';

export const FORMATS = ['pretty', 'json', 'ndjson', 'compact', 'sarif', 'prometheus'] as const;
export type Format = (typeof FORMATS)[number];

/** The reporter for a --format value. `clock` times the run for the formats that record it. */
export function reporterFor(format: Format, ctx: ReportContext, clock: Clock = Date.now): Reporter {
  if (format === 'json') return jsonReporter();
  if (format === 'ndjson') return ndjsonReporter();
  if (format === 'compact') return compactReporter(ctx);
  if (format === 'sarif') return sarifReporter(ctx, clock);
  if (format === 'prometheus') return prometheusReporter(ctx, clock);
  const pretty = withConfigLines(prettyReporter(ctx), ctx);
  return ctx.quiet ? heldOpening(pretty) : pretty;
}
