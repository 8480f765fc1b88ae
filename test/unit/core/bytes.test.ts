import { describe, expect, it } from 'vitest';
import { fromJsonText, fromText, toDisplay, toJsonText } from '../../../src/core/bytes.js';

const bytes = (...b: number[]): string => Buffer.from(b).toString('latin1');

describe('byte strings', () => {
  it.each([
    ['ascii', fromText('plain/name')],
    ['utf-8', fromText('ünïcødé/日本')],
    ['invalid byte', bytes(0x61, 0xff, 0x62)],
    ['lone continuation', bytes(0x80)],
    ['overlong', bytes(0xc0, 0xaf)],
    ['encoded surrogate', bytes(0xed, 0xa0, 0x80)],
    ['truncated sequence', bytes(0xe6, 0x97)],
    ['above U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80)],
    ['mixed', fromText('é') + bytes(0xfe) + fromText('日')],
  ])('%s round-trips through JSON exactly', (_n, b) => {
    const json = JSON.stringify(toJsonText(b));
    expect(fromJsonText(JSON.parse(json))).toBe(b);
  });

  it('writes invalid bytes as \\udcXX, which no UTF-8 name can produce', () => {
    expect(JSON.stringify(toJsonText(bytes(0x61, 0xff)))).toBe('"a\\udcff"');
    expect(toJsonText(fromText('é'))).toBe('é');
  });

  it('shows control, bidi and invalid bytes escaped, and the backslash doubled', () => {
    expect(toDisplay(fromText('a\nb\tc\u001b[0m\u202ed\\e'))).toBe('a\\nb\\tc\\x1b[0m\\u202ed\\\\e');
    expect(toDisplay(bytes(0x61, 0xff))).toBe('a\\xff');
    expect(toDisplay(fromText('naïve café'))).toBe('naïve café');
  });
});
