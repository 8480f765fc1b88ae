import { rules } from '../rules/registry.js';
import type { Rule } from '../rules/types.js';
import type { RuleDoc, RunInfo } from './reporter.js';
import { explainRule } from './rules-text.js';

/** The rules' documentation as report data: what `explain` says, field by field and whole. */
function ruleDocs(): RuleDoc[] {
  return (rules as readonly Rule[]).map((r) => ({
    id: r.id,
    code: r.code,
    severity: r.severity,
    title: r.title,
    fixable: r.fix === 'rewrite',
    what: r.docs.what,
    why: r.docs.why,
    fix: r.docs.fix,
    explain: explainRule(r.id),
  }));
}

/** The run facts a report context carries. */
export function runInfo(version: string, startedAt: number): RunInfo {
  return { version, startedAt, rules: ruleDocs() };
}
