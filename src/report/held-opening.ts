import type { Reporter } from './reporter.js';

/**
 * --quiet prints nothing when the exit code is 0, and what it prints needs no preamble of its
 * own: so a report's opening (the pretty format's image line) is held until something else is
 * written, then written before it, and dropped when nothing is. Wrapped outermost, so the opening
 * stays first whichever layer writes next (the config lines come before the format's own end).
 */
export function heldOpening(inner: Reporter): Reporter {
  let held = '';
  const after = (s: string): string => {
    if (s === '' || held === '') return s;
    const out = held + s;
    held = '';
    return out;
  };
  const check = inner.check;
  return {
    begin(h) {
      held = inner.begin(h);
      return '';
    },
    event: (ev) => after(inner.event(ev)),
    ...(check ? { check: (c) => after(check(c)) } : {}),
    end: (summary, changes, extras) => after(inner.end(summary, changes, extras)),
  };
}
