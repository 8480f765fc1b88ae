import { describe, expect, it } from 'vitest';
import { climbsAbove, components, relative, textClimbsAbove } from '../../../src/core/paths.js';
import { untidiness, untidinessReasons } from '../../../src/rules/non-canonical.js';

// relative() walks the two paths as strings; this is the plain component-list version it replaced.
function byComponents(from: string, to: string): string {
  const a = from === '/' ? [] : from.slice(1).split('/');
  const b = to === '/' ? [] : to.slice(1).split('/');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const parts: string[] = [];
  for (let k = 0; k < a.length - i; k++) parts.push('..');
  for (let k = i; k < b.length; k++) parts.push(b[k]!);
  return parts.length === 0 ? '.' : parts.join('/');
}

describe('relative', () => {
  it.each([
    ['/', '/', '.'],
    ['/a', '/a', '.'],
    ['/a', '/ab', '../ab'],
    ['/ab', '/a', '../a'],
    ['/a/b', '/a', '..'],
    ['/a', '/a/b', 'b'],
    ['/', '/a/b', 'a/b'],
    ['/a/b/c', '/', '../../..'],
    ['/var/www/rails/releases/1', '/var/www/rails/shared/log', '../../shared/log'],
  ])('%s -> %s is %s', (from, to, want) => {
    expect(relative(from, to)).toBe(want);
  });

  it('agrees with the component-list version on every pair of a small universe', () => {
    const names = ['a', 'ab', 'b', 'a.b', 'x', '\xe9'];
    const paths = ['/'];
    for (const x of names) {
      paths.push('/' + x);
      for (const y of names) {
        paths.push(`/${x}/${y}`);
        for (const z of names.slice(0, 3)) paths.push(`/${x}/${y}/${z}`);
      }
    }
    const bad: string[] = [];
    for (const f of paths) for (const t of paths) if (relative(f, t) !== byComponents(f, t)) bad.push(`${f} -> ${t}`);
    expect(bad).toEqual([]);
    expect(paths.length).toBeGreaterThan(100);
  });
});

/** Every text up to `len` characters over a small alphabet that has all the tricky parts. */
function allTexts(len: number): string[] {
  const out: string[] = [];
  const grow = (prefix: string): void => {
    if (prefix.length > 0) out.push(prefix);
    if (prefix.length === len) return;
    for (const c of ['/', '.', 'a']) grow(prefix + c);
  };
  grow('');
  return out;
}

describe('textClimbsAbove', () => {
  it('is climbsAbove over the components, for every short text and depth', () => {
    const texts = allTexts(8);
    const bad: string[] = [];
    for (const t of texts) for (let d = 0; d < 4; d++) if (textClimbsAbove(d, t) !== climbsAbove(d, components(t))) bad.push(`${d} ${t}`);
    expect(bad).toEqual([]);
    expect(texts.length).toBeGreaterThan(9000);
  });
});

describe('untidiness', () => {
  it('says the same as its plain reading for every short text', () => {
    const bad = allTexts(9).filter((t) => untidiness(t) !== untidinessReasons(t));
    expect(bad).toEqual([]);
  });
});
