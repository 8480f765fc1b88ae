import { UsageError } from '../core/errors.js';
import { findRule, rules } from '../rules/registry.js';
import type { Rule } from '../rules/types.js';

export function listRules(): string {
  // The name column is as wide as the longest name, and two spaces part every column.
  const width = Math.max(...rules.map((r) => r.id.length));
  const rows = (rules as readonly Rule[]).map((r) => `${r.code}  ${r.id.padEnd(width)}  ${r.severity.padEnd(8)} ${r.fix === 'rewrite' ? 'fixable' : '       '}  ${r.title}`);
  return `${rows.join('\n')}\n\nRun "linkcheck explain <id|code>" for what a rule flags, why it matters and how --fix deals with it.\n`;
}

function exampleFlags(o: NonNullable<Rule['docs']['example']['options']>): string {
  const rules = Object.entries(o.rules ?? {}).map(([id, level]) => ` --rule ${id}=${level}`);
  return (o.require ?? []).map((r) => ` --require ${r}`).join('') + (o.preset ? ` --preset ${o.preset}` : '') + (o.asUser ? ` --as-user ${o.asUser}` : '') + rules.join('');
}

/** The modes and owners an example sets, and the image's layers, in words. */
function exampleSetup(o: Rule['docs']['example']['options']): string[] {
  const modes = Object.entries(o?.modes ?? {}).map(([p, m]) => `/${p} has mode ${m.toString(8).padStart(4, '0')}`);
  const owners = Object.entries(o?.owners ?? {}).map(([p, uid]) => `/${p} is owned by uid ${uid}`);
  const layers = (o?.image?.ambiguities ?? []).map((c) => `layer ${c.upper} ${c.detail.replace(/^layer \d+ /, '')}`);
  return [...modes, ...owners, ...layers].map((w) => `  and ${w}`);
}

/** Where the example's link is, and how it is scanned: a jail on the host, or an image's root. */
function exampleScene(ex: Rule['docs']['example']): { where: string; command: string } {
  if (ex.options?.image) return { where: `in an image's merged root, the link ${ex.link}`, command: `linkcheck --image IMAGE${ex.scan ? ' /' + ex.scan : ''}` };
  const host = (ex.root === '/' ? '' : ex.root) + ex.link;
  return { where: `with the jail at ${ex.root}, the link ${ex.link} (${host} on the host)`, command: `linkcheck ${ex.root}${ex.scan ?? ''} --root ${ex.root}` };
}

export function explainRule(key: string): string {
  const r = findRule(key);
  if (!r) throw new UsageError(`unknown rule "${key}": run "linkcheck rules" for the list`);
  const ex = r.docs.example;
  const scene = exampleScene(ex);
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
    `  ${scene.where} -> ${ex.text}`,
    ...Object.entries(ex.links ?? {}).map(([l, t]) => `  and ${l} -> ${t}`),
    ...(ex.exists && ex.exists.length > 0 ? [`  where ${ex.exists.map((e) => '/' + e).join(', ')} exist${ex.exists.length === 1 ? 's' : ''} in the jail`] : []),
    ...exampleSetup(ex.options),
    ...(ex.options ? [`  scanned as: ${scene.command}${exampleFlags(ex.options)}`] : []),
    '',
    'Fix',
    `  ${r.docs.fix}`,
    '',
  ].join('\n');
}
