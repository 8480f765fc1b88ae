/**
 * The man page's ENVIRONMENT section names exactly the variables linkcheck reads: read off the
 * sources (`env.NAME`, a `..._ENV = 'NAME'` constant, and TMPDIR through os.tmpdir()).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../support/import-graph.js';
import { REPO } from '../support/repo.js';

/** Variable names a source text reads. */
function readsOf(text: string): string[] {
  const names = [...text.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g), ...text.matchAll(/_ENV = '([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!);
  if (/\btmpdir\(\)/.test(text)) names.push('TMPDIR');
  return names;
}

/** The names the man page's ENVIRONMENT section documents (each .B line of it). */
function documented(man: string): string[] {
  const section = man.slice(man.indexOf('.SH ENVIRONMENT'), man.indexOf('.SH', man.indexOf('.SH ENVIRONMENT') + 1));
  return [...section.matchAll(/^\.B ([A-Z][A-Z0-9_]*)$/gm)].map((m) => m[1]!);
}

describe('the man page ENVIRONMENT and the code', () => {
  const src = path.join(REPO, 'src');
  const read = new Set(sourceFiles(src).flatMap((f) => readsOf(fs.readFileSync(path.join(src, f), 'utf8'))));
  const man = fs.readFileSync(path.join(REPO, 'man/linkcheck.1'), 'utf8');

  it('documents every variable the code reads, and no other', () => {
    expect(read.size).toBeGreaterThan(5);
    expect([...new Set(documented(man))].sort()).toEqual([...read].sort());
  });

  it('catches a variable read and not documented (positive control)', () => {
    expect(readsOf("const x = env.LINKCHECK_NEW; const LOCK_ENV = 'LINKCHECK_OTHER'; tmpdir();")).toEqual(['LINKCHECK_NEW', 'LINKCHECK_OTHER', 'TMPDIR']);
    expect(documented(man.replace('.B LINKCHECK_LOCK_DIR\n', ''))).not.toContain('LINKCHECK_LOCK_DIR');
  });
});
