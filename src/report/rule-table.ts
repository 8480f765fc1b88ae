import type { Finding } from '../audit/records.js';
import type { Severity } from '../rules/registry.js';
import { count } from './limits.js';

const ORDER: readonly Severity[] = ['error', 'warning', 'info'];

/**
 * Findings counted per rule, for the table before the pretty summary (Ruff's --statistics): what
 * fired and how often, most frequent first, whatever the cap left unlisted.
 */
export class RuleTable {
  private readonly rows = new Map<string, { code: string; n: number; by: Record<Severity, number> }>();

  add(findings: readonly Finding[]): void {
    for (const f of findings) {
      let row = this.rows.get(f.rule);
      if (!row) this.rows.set(f.rule, (row = { code: f.code, n: 0, by: { error: 0, warning: 0, info: 0 } }));
      row.n++;
      row.by[f.severity]++;
    }
  }

  /** The table, when more than one rule fired (one rule's count is the summary's own). */
  text(dim: (s: string) => string): string {
    if (this.rows.size < 2) return '';
    const rows = [...this.rows.entries()].sort((a, b) => b[1].n - a[1].n || a[1].code.localeCompare(b[1].code));
    const width = Math.max(...rows.map(([, r]) => count(r.n).length));
    const name = Math.max(...rows.map(([rule]) => rule.length));
    let out = '';
    for (const [rule, r] of rows) {
      const sev = ORDER.filter((s) => r.by[s] > 0);
      const how = sev.length === 1 ? sev[0]! : sev.map((s) => `${count(r.by[s])} ${s}`).join(', ');
      out += `${count(r.n).padStart(width + 2)}  ${dim(r.code)}  ${rule.padEnd(name)}  ${how}\n`;
    }
    return out + '\n';
  }
}
