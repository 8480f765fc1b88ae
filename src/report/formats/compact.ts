import { messageOf } from '../../rules/messages.js';
import type { Finding } from '../../audit/records.js';
import { pathNamer } from '../display-path.js';
import { mustAct } from '../must-act.js';
import type { Reporter, ReportContext } from '../reporter.js';

/**
 * Characters that could end, fake or recolour a line if a message carried them. Messages build
 * their paths with toDisplay already; this is the format's own guarantee, whatever a rule says.
 */
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function oneLine(s: string): string {
  return s.replace(LINE_BREAKING, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** `path: severity LC00x rule: message`, one line whatever the message holds; `shown` is the path as the report names it. */
export function compactLine(shown: string, f: Finding): string {
  return `${shown}: ${f.severity} ${f.code} ${f.rule}: ${oneLine(messageOf(f))}\n`;
}

/**
 * One line per finding, `path: severity LC00x rule: message`, nothing else (no summary, no
 * changes): for grep, editors' quickfix lists and `wc -l`. Paths as in the pretty format. Never
 * capped; with --quiet, only the lines at or above --fail-on.
 */
export function compactReporter(ctx: ReportContext): Reporter {
  const name = pathNamer(ctx.scanLabels);
  // --quiet: only the findings that make the exit code 1 (ESLint's --quiet).
  const line = (path: string, f: Finding): string => (ctx.quiet && !mustAct(f, ctx.failOn) ? '' : compactLine(name(path), f));
  return {
    begin() {
      return '';
    },
    event(ev) {
      if (ev.type === 'unreadable') return line(ev.entry.path, ev.entry.finding);
      let out = '';
      for (const f of ev.link.findings) out += line(ev.link.path, f);
      return out;
    },
    // A failed check on a path that is not a link (--require, --preset) is a finding like any other.
    check(ch) {
      let out = '';
      for (const f of ch.findings) out += line(ch.path, f);
      return out;
    },
    // Two more causes of exit code 1, a line each: a fix put back (it failed to verify), and an
    // allow entry that matched nothing (an info finding of the run: it fails --fail-on info).
    end(_summary, changes, extras) {
      let out = '';
      for (const ch of changes) if (ch.status === 'failed') out += `${name(ch.path)}: error fix-failed: ${oneLine(ch.reason ?? 'did not verify')}\n`;
      if (ctx.quiet && ctx.failOn !== 'info') return out;
      for (const s of extras?.stale ?? []) out += `allow entry #${s.index + 1}: info stale-allow: ${s.message}\n`;
      return out;
    },
  };
}
