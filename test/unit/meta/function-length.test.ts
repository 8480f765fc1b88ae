import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type FunctionSpan, functionSpans } from '../../support/function-length.js';
import { sourceFiles } from '../../support/import-graph.js';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/** About a screen: a reader follows a function this long without scrolling back. */
const MAX_LINES = 60;

const over = (spans: FunctionSpan[]): string[] =>
  spans.filter((s) => s.lines > MAX_LINES).map((s) => `${s.file}#${s.name} (line ${s.line}, ${s.lines} lines)`);

const key = (entry: string): string => entry.replace(/ \(line .*$/, '');

describe("src/'s functions", () => {
  const files = Object.fromEntries(sourceFiles(SRC).map((f) => [f, fs.readFileSync(path.join(SRC, f), 'utf8')]));
  const spans = functionSpans(files);

  it('are all read: every module of src/ is parsed and has functions in it', () => {
    expect(Object.keys(files).length).toBeGreaterThan(60);
    expect(new Set(spans.map((s) => s.file)).size).toBeGreaterThan(60);
    expect(spans.map((s) => `${s.file}#${s.name}`)).toContain('config/json-text.ts#parseJsonText');
  });

  // None is a data table today; one that must be longer would be named here, with why.
  it(`are at most ${MAX_LINES} lines long`, () => {
    expect(over(spans)).toEqual([]);
  });
});

describe('the measure itself (positive controls)', () => {
  const body = (n: number): string => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
  const spans = functionSpans({
    'a.ts': [
      '/**',
      ' * A doc comment is not part of the length.',
      ' */',
      `export function sixty(): void {\n${body(58)}\n}`,
      `export function sixtyOne(): void {\n${body(59)}\n}`,
      `export const arrow = (): void => {\n${body(61)}\n};`,
      `class C {\n  method(): void {\n${body(61)}\n  }\n}`,
      `export function outer(): () => void {\n  return () => {\n${body(70)}\n  };\n}`,
      `export const table = { handler() {\n${body(61)}\n} };`,
    ].join('\n'),
  });
  const lengths = Object.fromEntries(spans.map((s) => [s.name, s.lines]));

  it('counts a function from its first token to its closing line', () => {
    expect(lengths['sixty']).toBe(60);
    expect(spans.find((s) => s.name === 'sixty')!.line).toBe(4);
    expect(lengths['sixtyOne']).toBe(61);
  });

  it('flags arrows, methods, closures and their enclosing function, each by a name a reader can find', () => {
    expect(over(spans).map(key)).toEqual(['a.ts#sixtyOne', 'a.ts#arrow', 'a.ts#C>method', 'a.ts#outer', 'a.ts#outer><anonymous>', 'a.ts#table>handler']);
  });
});
