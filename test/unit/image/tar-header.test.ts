import { describe, expect, it } from 'vitest';
import { numberField, parseHeader, parsePax, paxTimeNs } from '../../../src/image/tar-header.js';
import { header } from './image-builder.js';

describe('numeric fields', () => {
  const field = (bytes: number[] | string): Buffer => (typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes));

  it('reads octal padded with spaces or NULs, and an empty field as 0', () => {
    expect(numberField(field('0000644\0'), 0, 8)).toBe(0o644);
    expect(numberField(field('   644 \0'), 0, 8)).toBe(0o644);
    expect(numberField(field('\0\0\0\0\0\0\0\0'), 0, 8)).toBe(0);
    expect(numberField(field('77777777777\0'), 0, 12)).toBe(8 ** 11 - 1);
  });

  it('trims NULs and spaces at both ends as Go does: a size hidden behind leading NULs is still read', () => {
    // Read as 0, the file's 512 bytes of contents would be taken for headers that Go (and so the
    // runtime) never sees: an archive could show linkcheck other entries than the container gets.
    expect(numberField(field('\0\0\0\0\0\0\0\0' + '1000'), 0, 12)).toBe(0o1000);
    expect(numberField(field('\0 17\0 \0\0'), 0, 8)).toBe(0o17);
    expect(numberField(field('12\0x\0\0\0\0'), 0, 8)).toBe(0o12);
    expect(() => numberField(field('1 2\0\0\0\0\0'), 0, 8)).toThrow(/not an octal number/);
  });

  it('reads GNU base-256, positive and negative', () => {
    // 2^33 + 5 bytes: over the 8 GiB an octal size field holds.
    expect(numberField(field([0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 5]), 0, 12)).toBe(2 ** 33 + 5);
    expect(numberField(field([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0, 12)).toBe(-1);
    expect(numberField(field([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]), 0, 12)).toBe(-256);
    // The first byte's low bits count and bit 0x40 is the sign, as in Go's parseNumeric.
    expect(numberField(field([0x81, 0, 0, 0, 0, 0]), 0, 6)).toBe(2 ** 40);
    expect(numberField(field([0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]), 0, 6)).toBe(-2);
    expect(() => numberField(field([0x80, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0, 12)).toThrow(/out of range/);
  });

  it('refuses a field that is not octal', () => {
    expect(() => numberField(field('12x4\0\0\0\0'), 0, 8)).toThrow(/not an octal number/);
  });
});

describe('a header block', () => {
  it('keeps every byte of a name: non-UTF-8 bytes come out one char per byte', () => {
    const h = parseHeader(header({ name: 'caf\xe9/\xff\xfe', flag: '0', linkname: 'l\x80' }))!;
    expect(h.name).toBe('caf\xe9/\xff\xfe');
    expect(h.linkname).toBe('l\x80');
  });

  it('joins the ustar prefix; reads a GNU header access time where ustar has the prefix', () => {
    expect(parseHeader(header({ name: 'name', flag: '0', prefix: 'a/b' }))!.name).toBe('a/b/name');
    const gnu = header({ name: 'n', flag: '0', magic: 'gnu' });
    gnu.write('00000000017\0', 345, 12, 'latin1');
    gnu.fill(0x20, 148, 156);
    let sum = 0;
    for (const v of gnu) sum += v;
    gnu.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    expect(parseHeader(gnu)!.atime).toBe(0o17);
  });

  it('maps type flags (a trailing slash is left to the entry, once long names are applied: see tar-entries)', () => {
    const types = ['0', '\0', '7', '1', '2', '3', '4', '5', '6', 'x', 'g', 'L', 'K', 'S'].map((flag) => parseHeader(header({ name: 'n', flag }))!.type);
    expect(types).toEqual(['file', 'file', 'file', 'link', 'symlink', 'char', 'block', 'dir', 'fifo', 'pax', 'pax-global', 'gnu-long-name', 'gnu-long-link', 'unsupported']);
  });

  it('is null for a zero block and throws on a bad checksum', () => {
    expect(parseHeader(Buffer.alloc(512))).toBeNull();
    const bad = header({ name: 'n', flag: '0' });
    bad[0] = 0x6d;
    expect(() => parseHeader(bad)).toThrow(/checksum/);
  });
});

describe('PAX records', () => {
  it('reads records as byte strings, raw bytes kept', () => {
    const recs = Buffer.concat([Buffer.from('14 path=caf\xe9\xff\n', 'latin1'), Buffer.from('21 mtime=1.000000001\n')]);
    expect(Object.fromEntries(parsePax(recs))).toEqual({ path: 'caf\xe9\xff', mtime: '1.000000001' });
  });

  it('refuses a record that does not parse (a length past the end, one that does not end the record, no key) or a NUL in a name, as Go does', () => {
    expect(() => parsePax(Buffer.from('12 uid=1000\n99 gid=5\n'))).toThrow(/does not parse at byte 12/);
    expect(() => parsePax(Buffer.from('12 uid=1000\n9 gid=5\n12 uid=2000\n'))).toThrow(/does not parse/);
    expect(() => parsePax(Buffer.from('12 uid=1000\n\0\0\0'))).toThrow(/does not parse/);
    expect(() => parsePax(Buffer.from('7 =abc\n'))).toThrow(/without a key/);
    expect(() => parsePax(Buffer.from('12 path=a\0b\n', 'latin1'))).toThrow(/a NUL in the PAX record 'path'/);
  });

  it('reads times to the nanosecond, negative ones too', () => {
    expect(paxTimeNs('1700000000.123456789')).toBe(1_700_000_000_123_456_789n);
    expect(paxTimeNs('1700000000.5')).toBe(1_700_000_000_500_000_000n);
    expect(paxTimeNs('1700000000.1234567891')).toBe(1_700_000_000_123_456_789n);
    expect(paxTimeNs('-1.5')).toBe(-1_500_000_000n);
    expect(paxTimeNs('12')).toBe(12_000_000_000n);
    expect(paxTimeNs('x')).toBeNull();
  });
});
