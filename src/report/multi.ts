import type { Summary } from '../audit.js';
import type { Settings } from '../settings.js';
import { toDisplay } from '../bytes.js';
import { headerJson, SCHEMA_VERSION } from './json-shape.js';

/** Adds the numbers of `b` into `a`, key by key, nested objects too (summaries of many jails). */
export function addCounts(a: Record<string, unknown>, b: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(b)) {
    if (typeof v === 'number') a[k] = ((a[k] as number | undefined) ?? 0) + v;
    else if (v !== null && typeof v === 'object') {
      const into = (a[k] ??= {}) as Record<string, unknown>;
      addCounts(into, v as Record<string, unknown>);
    }
  }
}

/**
 * The report of a run over many jails: each jail's report exactly as a single-root run writes
 * it, framed per format. json: one document `{"schemaVersion":1,"roots":[...],"reports":[<one
 * report per root>],"summary":<totals>}`. ndjson: a `{"type":"root",...}` line before each jail's
 * lines, a `{"type":"total",...}` line at the end. Other formats: a `root <dir>:` heading before
 * each jail that has something to say.
 */
export function multiRootReport(format: string, write: (s: string) => void): {
  section(settings: Settings): { write: (s: string) => void; done: (summary: Summary) => void };
  end(): void;
} {
  const total: Record<string, unknown> = {};
  const roots: string[] = [];
  let sections = 0;
  if (format === 'json') write(`{"schemaVersion":${SCHEMA_VERSION},"reports":[\n`);
  return {
    section(settings) {
      const head = headerJson({ root: settings.root, scanned: settings.scanned });
      roots.push(head.root);
      let started = false;
      const first = (): void => {
        if (started) return;
        started = true;
        if (format === 'json') write(sections === 0 ? '' : ',\n');
        else if (format === 'ndjson') write(JSON.stringify({ type: 'root', ...head }) + '\n');
        else write(`root ${toDisplay(settings.root)}:\n`);
        sections++;
      };
      // json and ndjson frame every jail; a person's format only those with output.
      if (format === 'json' || format === 'ndjson') first();
      return {
        write(s) {
          if (s === '') return;
          first();
          write(s);
        },
        done(summary) {
          addCounts(total, summary as unknown as Record<string, unknown>);
        },
      };
    },
    end() {
      if (format === 'json') write(`],\n"roots":${JSON.stringify(roots)},\n"summary":${JSON.stringify(total)}}\n`);
      else if (format === 'ndjson') write(JSON.stringify({ type: 'total', schemaVersion: SCHEMA_VERSION, roots, summary: total }) + '\n');
    },
  };
}
