import type { Summary } from '../../audit/records.js';
import { toJsonText } from '../../core/bytes.js';
import type { AppliedChange } from '../../fix/applied-change.js';
import type { Severity } from '../../rules/registry.js';
import type { Clock, Reporter, ReportContext } from '../reporter.js';

/**
 * The Prometheus text format, for node_exporter's textfile collector: what the last run found,
 * fixed and failed to fix, when it ran and how long it took. Every series carries `root` (the
 * jail root) and `tree` (the scanned paths), so several jails on one host never collide. All are
 * gauges: each run replaces the file, and the values describe that run.
 */
export function prometheusReporter(ctx: ReportContext, clock: Clock): Reporter {
  let base = '';
  /** Findings by rule code and severity: the summary has each alone, not the pair. */
  const bySeverity = new Map<string, Record<Severity, number>>(ctx.run.rules.map((r) => [r.code, { error: 0, warning: 0, info: 0 }]));
  const count = (code: string, severity: Severity): void => {
    let row = bySeverity.get(code);
    if (row === undefined) bySeverity.set(code, (row = { error: 0, warning: 0, info: 0 }));
    row[severity]++;
  };
  return {
    begin(h) {
      base = `root="${labelValue(h.root)}",tree="${labelValue(h.scanned.join(' '))}"`;
      return '';
    },
    event(ev) {
      if (ev.type === 'unreadable') count(ev.entry.finding.code, ev.entry.finding.severity);
      else for (const f of ev.link.findings) count(f.code, f.severity);
      return '';
    },
    // A failed check on a path that is not a link (--require, a preset, an image's layer-ambiguity)
    // is in the summary's counts: so it is in the metric's.
    check(c) {
      for (const f of c.findings) count(f.code, f.severity);
      return '';
    },
    end(summary, changes) {
      const now = clock();
      const out: string[] = [];
      const metric = (name: string, help: string, rows: [string, number][]): void => {
        out.push(`# HELP linkcheck_${name} ${help}`, `# TYPE linkcheck_${name} gauge`);
        for (const [labels, value] of rows) out.push(`linkcheck_${name}{${base}${labels}} ${value}`);
      };
      metric('links', 'Symbolic links examined by the last run.', [['', summary.links]]);
      metric('entries', 'Directory entries walked by the last run.', [['', summary.entries]]);
      metric('problem_links', 'Links with at least one finding in the last run.', [['', summary.problems]]);
      metric('fixable_links', 'Links that --fix would rewrite (after a --fix run: links still fixable).', [['', summary.fixable]]);
      metric('findings', 'Findings of the last run by rule and severity (after --fix: what is left).', findingRows(ctx, bySeverity));
      metric('link_status', 'Links by how each view resolves them (chroot: inside the jail; host: on the host).', statusRows(summary));
      metric('unreadable_entries', 'Directories or links the last run could not read; nothing below them was checked.', [['', summary.unreadable]]);
      // Only with an allow list, as in the JSON summary: a stale entry fails --fail-on info.
      if (summary.stale !== undefined) metric('stale_allow_entries', 'Allow entries of the config that matched no finding in the last run.', [['', summary.stale]]);
      metric('fixed_links', 'Links the last run rewrote and verified (--fix only).', [['', countOf(changes, 'changed')]]);
      metric('fix_failures', 'Fixes the last run rolled back because the result did not verify (--fix only).', [['', countOf(changes, 'failed')]]);
      metric('fix_skipped', 'Planned fixes the last run left alone because the link changed meanwhile or could not be reached safely (--fix only).', [
        ['', countOf(changes, 'skipped')],
      ]);
      metric('last_run_timestamp_seconds', 'When the last run finished, in seconds since the epoch.', [['', seconds(now)]]);
      metric('run_duration_seconds', 'How long the last run took, in seconds.', [['', seconds(Math.max(0, now - ctx.run.startedAt))]]);
      metric('build_info', 'The linkcheck version of the last run (always 1).', [[`,version="${labelValue(ctx.run.version)}",mode="${ctx.mode}"`, 1]]);
      return out.join('\n') + '\n';
    },
  };
}

/**
 * Every rule at its default severity, even when zero (so a rule that stops firing reads 0 rather
 * than vanishing), and any other severity a rule gave this run.
 */
function findingRows(ctx: ReportContext, bySeverity: Map<string, Record<Severity, number>>): [string, number][] {
  const rows: [string, number][] = [];
  const doc = new Map(ctx.run.rules.map((r) => [r.code, r]));
  for (const [code, counts] of bySeverity) {
    const rule = doc.get(code);
    for (const severity of ['error', 'warning', 'info'] as const) {
      if (counts[severity] === 0 && severity !== rule?.severity) continue;
      rows.push([`,rule="${labelValue(rule?.id ?? code)}",code="${labelValue(code)}",severity="${severity}"`, counts[severity]]);
    }
  }
  return rows;
}

function statusRows(s: Summary): [string, number][] {
  const rows: [string, number][] = [];
  for (const view of ['chroot', 'host'] as const) for (const [status, n] of Object.entries(s[view])) rows.push([`,view="${view}",status="${status}"`, n]);
  return rows;
}

function countOf(changes: readonly AppliedChange[], status: AppliedChange['status']): number {
  let n = 0;
  for (const c of changes) if (c.status === status) n++;
  return n;
}

function seconds(ms: number): number {
  return ms / 1000;
}

/**
 * A byte string as a label value: valid UTF-8 as it is; each byte that is not becomes the text
 * `\xNN` (as the pretty report writes it), since the format is UTF-8 only. Then the format's own
 * escapes: backslash, double quote and line feed.
 */
export function labelValue(bytes: string): string {
  const text = toJsonText(bytes).replace(/[\udc80-\udcff]/gu, (c) => '\\x' + (c.charCodeAt(0) - 0xdc00).toString(16).padStart(2, '0'));
  return text.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}
