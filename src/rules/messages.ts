import { rules } from './registry.js';
import type { Finding, Rule, TextFinding } from './types.js';

const byId = new Map<string, Rule>(rules.map((r) => [r.id, r as Rule]));

/** The words of a finding: rendered by its rule from the arguments, or as settled where judged. */
export function messageOf(f: Finding): string {
  if (f.message !== undefined) return f.message;
  const rule = byId.get(f.rule);
  if (rule?.render === undefined) throw new Error(`no rule ${f.rule} to render a finding`);
  return rule.render(f.args);
}

/** The finding as the JSON report and library callers see it: rule, code, severity, message. */
export function withMessage(f: Finding): TextFinding {
  return f.message !== undefined ? f : { rule: f.rule, code: f.code, severity: f.severity, message: messageOf(f) };
}

/**
 * A record (a link, a check) with its findings' words rendered: the step a library result takes
 * before it is handed to a caller, so callers read `message` as the JSON report gives it.
 */
export function withMessages<R extends { findings: readonly Finding[] }>(rec: R): Omit<R, 'findings'> & { findings: TextFinding[] } {
  return { ...rec, findings: rec.findings.map(withMessage) };
}

