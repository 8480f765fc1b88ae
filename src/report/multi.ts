import type { Summary } from '../audit/records.js';
import type { Settings } from '../config/settings.js';
import { toDisplay } from '../core/bytes.js';
import { headerJson, SCHEMA_VERSION } from './json-shape.js';

/** Adds the numbers of `b` into `a`, key by key, nested objects too (summaries of many jails). */
function addCounts(a: Record<string, unknown>, b: Record<string, unknown>): void {
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
 * lines, a `{"type":"total",...}` line at the end. sarif: one log with a run per jail.
 * prometheus: one exposition, each metric family once with every jail's samples (its `root`
 * label tells them apart). compact: each jail's lines as they are (one line per finding, paths
 * named from each jail's scan path). Other formats: a `root <dir>:` heading before each jail that
 * has something to say.
 */
export function multiRootReport(format: string, write: (s: string) => void): {
  section(settings: Settings): { write: (s: string) => void; done: (summary: Summary) => void };
  end(): void;
} {
  const total: Record<string, unknown> = {};
  const roots: string[] = [];
  let sections = 0;
  if (format === 'sarif' || format === 'prometheus') return mergedReport(format, write);
  if (format === 'json') write(`{"schemaVersion":${SCHEMA_VERSION},"reports":[\n`);
  return {
    section(settings) {
      const head = headerJson({ root: settings.root, scanned: settings.scanned, asUser: settings.reader });
      roots.push(head.root);
      let started = false;
      const first = (): void => {
        if (started) return;
        started = true;
        if (format === 'json') write(sections === 0 ? '' : ',\n');
        else if (format === 'ndjson') write(JSON.stringify({ type: 'root', ...head }) + '\n');
        else if (format !== 'compact') write(`root ${toDisplay(settings.root)}:\n`);
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

/**
 * Formats whose document cannot be framed by concatenation: each jail's report is kept whole
 * (these reports are small: one result per finding, or a few metric lines) and merged at the end.
 */
function mergedReport(format: 'sarif' | 'prometheus', write: (s: string) => void): ReturnType<typeof multiRootReport> {
  const parts: string[] = [];
  return {
    section() {
      let text = '';
      parts.push('');
      const at = parts.length - 1;
      return {
        write(s) {
          text += s;
          parts[at] = text;
        },
        done() {},
      };
    },
    end() {
      write(format === 'sarif' ? mergeSarif(parts) : mergePrometheus(parts));
    },
  };
}

/** One SARIF log holding every jail's run, in root order. */
function mergeSarif(logs: readonly string[]): string {
  const docs = logs.map((l) => JSON.parse(l) as { runs: unknown[] });
  if (docs.length === 0) return '';
  return JSON.stringify({ ...docs[0], runs: docs.flatMap((d) => d.runs) }) + '\n';
}

/**
 * One exposition from several: a metric family's HELP and TYPE lines once, then every part's
 * samples of it, families in the order they first appear (the text format wants a family's
 * lines together, and each HELP and TYPE once).
 */
function mergePrometheus(expositions: readonly string[]): string {
  const families = new Map<string, { head: string[]; samples: string[] }>();
  for (const text of expositions) {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      const name = meta ? meta[2]! : /^[^{\s]+/.exec(line)![0];
      let f = families.get(name);
      if (!f) families.set(name, (f = { head: [], samples: [] }));
      if (meta) {
        if (!f.head.some((h) => h.startsWith(`# ${meta[1]} `))) f.head.push(line);
      } else f.samples.push(line);
    }
  }
  let out = '';
  for (const f of families.values()) out += [...f.head, ...f.samples].join('\n') + '\n';
  return out;
}
