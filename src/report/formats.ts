import { compactReporter } from './compact.js';
import { jsonReporter } from './json.js';
import { ndjsonReporter } from './ndjson.js';
import { prettyReporter } from './pretty.js';
import type { Reporter, ReportContext } from './reporter.js';
import { withConfigLines } from './checks.js';

export const FORMATS = ['pretty', 'json', 'ndjson', 'compact'] as const;
export type Format = (typeof FORMATS)[number];

/** The reporter for a --format value. */
export function reporterFor(format: Format, ctx: ReportContext): Reporter {
  if (format === 'json') return jsonReporter();
  if (format === 'ndjson') return ndjsonReporter();
  if (format === 'compact') return compactReporter(ctx);
  return withConfigLines(prettyReporter(ctx), ctx);
}
