import { messageOf } from '../rules/messages.js';
import { createColors } from 'picocolors';
import type { CheckRecord, Finding, StaleAllow, SuppressedFinding } from '../audit/records.js';
import { toDisplay } from '../core/bytes.js';
import { mustAct } from './must-act.js';
import type { Reporter, ReportContext } from './reporter.js';

/**
 * For the formats a person reads: failed checks on paths that are not links (one line each, in
 * the `path: severity code rule: message` form), then, before the format's own end, one line per
 * allow entry that set findings aside (how many, and its reason) and one per stale entry. The
 * inner format's own `check`, if it has one, still sees each record (the pretty format counts
 * them in its per-rule table).
 */
export function withConfigLines(inner: Reporter, ctx: ReportContext): Reporter {
  const c = createColors(ctx.color);
  const used = new Map<number, { count: number; reason: string }>();
  const note = (list: readonly SuppressedFinding[] | undefined): void => {
    for (const f of list ?? []) {
      const u = used.get(f.allow) ?? { count: 0, reason: f.reason };
      u.count++;
      used.set(f.allow, u);
    }
  };
  const line = (path: string, f: Finding): string =>
    `${c.bold(toDisplay(path))}: ${f.severity === 'error' ? c.red('error') : f.severity === 'warning' ? c.yellow('warning') : c.blue('info')} ${c.dim(f.code)} ${f.rule}: ${messageOf(f)}\n`;
  let checks = '';
  return {
    begin: (h) => inner.begin(h),
    event(ev) {
      if (ev.type === 'link') note(ev.link.suppressed);
      return inner.event(ev);
    },
    check(ch: CheckRecord) {
      note(ch.suppressed);
      // --quiet: only what makes the exit code 1.
      for (const f of ch.findings) if (!ctx.quiet || mustAct(f, ctx.failOn)) checks += line(ch.path, f);
      return inner.check?.(ch) ?? '';
    },
    end(summary, changes, extras) {
      let out = checks === '' ? '' : checks + '\n';
      // --quiet says what makes the exit code 1: under --fail-on info, a stale entry does.
      if (ctx.quiet && ctx.failOn === 'info') for (const s of extras?.stale ?? []) out += staleLine(s, c);
      if (!ctx.quiet) {
        const allowed = [...used.entries()].sort((a, b) => a[0] - b[0]);
        for (const [i, u] of allowed) out += c.dim(`allowed by entry #${i + 1}: ${u.count} finding${u.count === 1 ? '' : 's'} (${u.reason})\n`);
        for (const s of extras?.stale ?? []) out += staleLine(s, c);
        if (allowed.length > 0 || (extras?.stale?.length ?? 0) > 0) out += '\n';
      }
      return out + inner.end(summary, changes, extras);
    },
  };
}

function staleLine(s: StaleAllow, c: ReturnType<typeof createColors>): string {
  return `${c.blue('info')} stale allow entry: ${s.message}\n`;
}
