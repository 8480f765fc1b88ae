import { fromText, toDisplay } from '../core/bytes.js';
import { isWithin } from '../core/paths.js';

export type ScanLabels = ReadonlyArray<readonly [string, string]>;

/**
 * How the person-facing formats name a host path: relative to the scanned path it lies under,
 * after that path's label (see ReportContext.scanLabels), or as the host path when there are no
 * labels or it lies under none. Always escaped (toDisplay), so no name can fake a line.
 */
export function pathNamer(labels: ScanLabels | undefined): (hostPath: string) => string {
  if (!labels || labels.length === 0) return toDisplay;
  let last = labels[0]!;
  return (p) => {
    // Links come in walk order: almost always under the same scanned path as the one before.
    if (!isWithin(p, last[0])) {
      const hit = labels.find(([s]) => isWithin(p, s));
      if (!hit) return toDisplay(p);
      last = hit;
    }
    const [s, label] = last;
    const rel = p === s ? '' : p.slice(s === '/' ? 1 : s.length + 1);
    if (label === '') return rel === '' ? '.' : toDisplay(rel);
    return toDisplay(rel === '' ? label : label + '/' + rel);
  };
}

/**
 * Labels for the scanned paths (host real paths): none for a single one (paths relative to
 * it); else, for each, the argument the user named it by (`realOf` answers an argument's real
 * path), as `find` prefixes what it prints with the starting point given.
 */
export function scanLabels(given: readonly string[], scanned: readonly string[], realOf: (arg: string) => string | null): ScanLabels {
  if (scanned.length === 1) return [[scanned[0]!, '']];
  const byReal = new Map<string, string>();
  for (const arg of given) {
    const real = realOf(arg);
    if (real !== null && !byReal.has(real)) byReal.set(real, fromText(arg.length > 1 ? arg.replace(/\/+$/, '') || '/' : arg));
  }
  return scanned.map((s) => [s, byReal.get(s) ?? s] as const);
}

/**
 * The width the pretty format fits its headlines into: the terminal's columns when the report
 * goes to one, else $COLUMNS when set (as systemd and ls read it), else none (pipes and files
 * get every text whole).
 */
export function reportWidth(isTTY: boolean, columns: number | undefined, env: Record<string, string | undefined>): number | undefined {
  const fromEnv = Number(env.COLUMNS);
  if (env.COLUMNS !== undefined && Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  if (isTTY && columns !== undefined && columns > 0) return columns;
  return undefined;
}
