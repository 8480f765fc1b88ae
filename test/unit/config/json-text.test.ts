import { describe, expect, it } from 'vitest';
import { JsonTextError, lineAt, parseJsonText } from '../../../src/config/json-text.js';
import { mulberry32 } from '../../support/prng.js';

/**
 * Random JSON texts, most of them valid and the rest one slip away (a missing colon, a trailing
 * comma, a bad literal...), from the tests' seeded generator so a failure names a text that can be
 * run again.
 */
function texts(seed: number, count: number): string[] {
  const rnd = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  // Each choice is the good one but once in 40: a text of some size holds a slip or two.
  const or = (good: string, bad: readonly string[]): string => (rnd() < 0.025 ? pick(bad) : good);
  const ws = (): string => pick(['', ' ', '\n', '\t ', '\r\n']);
  const leaf = (): string => or(pick(['1', '-0.5e3', '0', 'true', 'null', 'false', '"a"', '"x\\ny"', '"\\u00e9"', '""']), ['01', '"bad\\q"', 'tru', '', '"', '"a\tb"', '1.', '-']);
  const gen = (depth: number): string => {
    const r = rnd();
    if (depth > 3 || r < 0.35) return leaf();
    const n = Math.floor(rnd() * 4);
    if (r < 0.65) {
      const items = Array.from({ length: n }, () => ws() + gen(depth + 1) + ws());
      return '[' + ws() + items.join(or(',', ['', ';'])) + or('', [',']) + or(']', ['', '}']);
    }
    const key = (): string => or(pick(['"k"', '"j"', '"a/b~c"', '"\\u006b"']), ['k', "'k'"]);
    const members = Array.from({ length: n }, () => ws() + key() + ws() + or(':', ['', '='] ) + ws() + gen(depth + 1) + ws());
    return '{' + ws() + members.join(or(',', ['', ';'])) + or('', [',']) + or('}', ['', ']']);
  };
  return Array.from({ length: count }, () => ws() + gen(0) + ws() + or('', ['x', '1', '{}']));
}

describe('parseJsonText', () => {
  it('accepts what JSON.parse accepts, with the same value, and refuses the rest (random texts)', () => {
    let valid = 0;
    let duplicates = 0;
    let refused = 0;
    const all = texts(7, 10_000);
    // Mostly distinct: a generator that repeats itself tests a few hundred texts, not 10,000.
    expect(new Set(all).size).toBeGreaterThan(5_000);
    for (const text of all) {
      let expected: unknown;
      let ok = true;
      try {
        expected = JSON.parse(text);
      } catch {
        ok = false;
      }
      let got: unknown;
      let error: unknown = null;
      try {
        got = parseJsonText(text).value;
      } catch (err) {
        error = err;
      }
      if (error !== null) expect(error, text).toBeInstanceOf(JsonTextError);
      // JSON.parse keeps the last of two equal keys; the reader refuses them (and stops there).
      if (error instanceof JsonTextError && /is given twice/.test(error.message)) {
        if (ok) duplicates++;
        continue;
      }
      expect(error === null, text).toBe(ok);
      if (!ok) refused++;
      if (ok) {
        valid++;
        expect(got, text).toEqual(expected);
      }
    }
    // The generator reaches all three cases.
    expect(valid).toBeGreaterThan(2_000);
    expect(duplicates).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1_000);
  });

  it('names where each value sits: a member by its key, an element by itself', () => {
    const text = '{\n  "a": [1, {"b/c": "x"}],\n  "d~": null\n}';
    const { offsets } = parseJsonText(text);
    expect(offsets.get('')).toBe(0);
    expect(offsets.get('/a')).toBe(text.indexOf('"a"'));
    expect(offsets.get('/a/0')).toBe(text.indexOf('1'));
    expect(offsets.get('/a/1')).toBe(text.indexOf('{"b'));
    expect(offsets.get('/a/1/b~1c')).toBe(text.indexOf('"b/c"'));
    expect(offsets.get('/d~0')).toBe(text.indexOf('"d~"'));
  });

  it.each([
    ['{"a": 1,}', 'unexpected "}", expected a key in double quotes', 8],
    ['[1, 2', 'unexpected end of file, expected "," or "]"', 5],
    ['{"a": 1 "b": 2}', 'unexpected "\\"", expected "," or "}"', 8],
    ['{"a" 1}', 'unexpected "1", expected ":" after a key', 5],
    ['{"a": 1, "a": 2}', 'key "a" is given twice', 9],
    ['"abc', 'unexpected end of file, a string is not closed', 4],
    ['"a\\qb"', 'unexpected "\\"", a bad escape in a string', 0],
    ['"a\nb"', 'unexpected "\\n", a control character inside a string', 2],
    ['[1] 2', 'unexpected "2", expected the end of the file', 4],
    ['', 'unexpected end of file, expected a value', 0],
  ])('refuses %j: %s (at offset %i)', (text, message, offset) => {
    let error: unknown;
    try {
      parseJsonText(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(JsonTextError);
    expect((error as JsonTextError).message).toBe(message);
    expect((error as JsonTextError).offset).toBe(offset);
  });

  it('counts lines from 1', () => {
    expect(lineAt('a\nb\nc', 0)).toBe(1);
    expect(lineAt('a\nb\nc', 2)).toBe(2);
    expect(lineAt('a\nb\nc', 99)).toBe(3);
  });
});
