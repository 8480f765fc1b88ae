/**
 * The public API is what the README's Library section names, no more and no less: index.ts is
 * held equal to the paragraph that starts with "**The API**", values and types alike, so nothing
 * internal leaks out unannounced and nothing documented goes missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { REPO } from '../support/repo.js';

/** The names in backticks of the README paragraph that starts with "**The API**". */
function documented(readme: string): string[] {
  const start = readme.indexOf('**The API**');
  if (start < 0) return [];
  const end = readme.indexOf('\n\n', start);
  return [...readme.slice(start, end < 0 ? undefined : end).matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!).filter((n) => n !== 'src');
}

/** The names index.ts exports, values and types, read from its export statements. */
function exported(source: string): { values: string[]; types: string[] } {
  const values: string[] = [];
  const types: string[] = [];
  for (const m of source.matchAll(/export (type )?\{([^}]*)\} from/g))
    for (const n of m[2]!.split(',').map((x) => x.trim()).filter(Boolean)) (m[1] ? types : values).push(n.replace(/^type\s+/, ''));
  return { values, types };
}

describe("the public API and the README's word for it", () => {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const index = fs.readFileSync(path.join(REPO, 'src/index.ts'), 'utf8');

  it('exports exactly the values and types the README names', () => {
    const { values, types } = exported(index);
    expect(values.sort()).toEqual(Object.keys(api).sort());
    expect([...values, ...types].sort()).toEqual(documented(readme).sort());
  });

  it('catches an export the README does not name, and a documented name with no export (positive control)', () => {
    const both = (src: string): string[] => [...exported(src).values, ...exported(src).types].sort();
    expect(both(index + "\nexport { Resolver } from './resolve/resolver.js';\n")).not.toEqual(documented(readme).sort());
    expect(both(index)).not.toEqual(documented(readme.replace('`auditSync`', 'auditSync')).sort());
  });
});
