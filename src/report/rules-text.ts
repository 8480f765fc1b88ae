import { UsageError } from '../core/errors.js';
import { findRule, rules } from '../rules/registry.js';
import type { Rule } from '../rules/types.js';

export function listRules(): string {
  const rows = (rules as readonly Rule[]).map((r) => `${r.code}  ${r.id.padEnd(14)} ${r.severity.padEnd(8)} ${r.fix === 'rewrite' ? 'fixable' : '       '}  ${r.title}`);
  return `${rows.join('\n')}\n\nRun "linkcheck explain <id|code>" for what a rule flags, why it matters and how --fix deals with it.\n`;
}

function exampleFlags(o: { require?: string[]; preset?: string }): string {
  return (o.require ?? []).map((r) => ` --require ${r}`).join('') + (o.preset ? ` --preset ${o.preset}` : '');
}

export function explainRule(key: string): string {
  const r = findRule(key);
  if (!r) throw new UsageError(`unknown rule "${key}": run "linkcheck rules" for the list`);
  const ex = r.docs.example;
  return [
    `${r.id} (${r.code}), default severity ${r.severity}${r.fix === 'rewrite' ? ', fixable' : ''}${r.enabledBy ? `, judged with ${r.enabledBy}` : ''}`,
    r.title,
    '',
    'What it flags',
    `  ${r.docs.what}`,
    '',
    'Why it matters',
    `  ${r.docs.why}`,
    '',
    'Example',
    `  with the jail at ${ex.root}, the link ${ex.link} (${ex.root}${ex.link} on the host) -> ${ex.text}`,
    ...Object.entries(ex.links ?? {}).map(([l, t]) => `  and ${l} -> ${t}`),
    ...(ex.exists && ex.exists.length > 0 ? [`  where ${ex.exists.map((e) => '/' + e).join(', ')} exist${ex.exists.length === 1 ? 's' : ''} in the jail`] : []),
    ...(ex.options ? [`  scanned as: linkcheck ${ex.root}${ex.scan ?? ''} --root ${ex.root}${exampleFlags(ex.options)}`] : []),
    '',
    'Fix',
    `  ${r.docs.fix}`,
    '',
  ].join('\n');
}
