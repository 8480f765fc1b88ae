import type { Finding } from '../audit/records.js';
import type { ReportContext } from './reporter.js';

/** How many problem links per rule, and changes, the pretty format lists before it counts the rest. */
export const DEFAULT_LIMITS = { links: 10, changes: 20 } as const;

/** `20000` as `20,000`: counts a person reads at a glance. */
export const count = (n: number): string => n.toLocaleString('en-US');

/**
 * Lists up to `cap` problem links per rule, then counts the rest (git's "and N more"): 20,000
 * broken links are the same story 20,000 times, and a person needs the first few and the size.
 * A link is listed while any of its rules has room; a link not listed is counted under each of
 * its rules.
 */
export class RuleCap {
  private readonly listed = new Map<string, number>();
  private readonly more = new Map<string, { code: string; n: number }>();

  constructor(private readonly cap: number) {}

  /** Whether to list a link (or a line) with these findings; counts it either way. */
  admit(findings: readonly Finding[]): boolean {
    const room = findings.some((f) => (this.listed.get(f.rule) ?? 0) < this.cap);
    for (const rule of new Set(findings.map((f) => f.rule))) {
      if (room) this.listed.set(rule, (this.listed.get(rule) ?? 0) + 1);
      else {
        const m = this.more.get(rule) ?? { code: findings.find((f) => f.rule === rule)!.code, n: 0 };
        m.n++;
        this.more.set(rule, m);
      }
    }
    return room;
  }

  /** One line per rule that had more than the cap: `... and 19,990 more links with LC003 dangling (--all lists them)`. */
  moreLines(what = 'links'): string {
    let out = '';
    for (const [rule, m] of this.more) out += `... and ${count(m.n)} more ${what} with ${m.code} ${rule} (--all lists them)\n`;
    return out;
  }
}

/** The caps a run's context sets (none for a context that does not say: the library's, tests'). */
export function limitsOf(ctx: ReportContext): { links: number; changes: number } {
  return ctx.limits ?? { links: Infinity, changes: Infinity };
}

/**
 * The line after the first `cap` changes: where the rest are. A journal has them all (and undo
 * --list finds the run); without one, only a run with --all or a machine format lists them.
 */
export function moreChangesLine(more: number, ctx: ReportContext): string {
  if (more <= 0) return '';
  if (ctx.mode === 'dry-run') return `and ${count(more)} more; --all lists every planned change\n`;
  if (ctx.journal !== undefined) return `and ${count(more)} more; linkcheck undo ${ctx.journal} --list shows the run\n`;
  return `and ${count(more)} more (no --journal was given: --all or --format json lists every change)\n`;
}
