/**
 * One 512-byte tar header, read byte for byte. Names come out as byte strings (latin1: one char
 * per byte, see core/bytes.ts), so a name in any encoding keeps its exact bytes; PAX values are
 * byte strings too, and since POSIX makes them UTF-8 (or raw bytes under hdrcharset=BINARY, which
 * Go's archive/tar, and so Docker, writes for any name that is not ASCII) the bytes are the name.
 */

export const BLOCK = 512;

/** What a header announces: an entry's type, or one of the records that amend the next entry. */
type HeaderType =
  | 'file'
  | 'link'
  | 'symlink'
  | 'char'
  | 'block'
  | 'dir'
  | 'fifo'
  | 'pax'
  | 'pax-global'
  | 'gnu-long-name'
  | 'gnu-long-link'
  | 'unsupported';

export interface RawHeader {
  type: HeaderType;
  /** The type flag as written, for messages about one linkcheck cannot read. */
  flag: string;
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds; PAX records give nanoseconds (see tar-entries.ts). */
  mtime: number;
  /** GNU headers keep an access time where ustar keeps the name prefix; null when absent. */
  atime: number | null;
}

const FLAGS: Record<string, HeaderType> = {
  '\0': 'file',
  '0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
  x: 'pax',
  g: 'pax-global',
  L: 'gnu-long-name',
  K: 'gnu-long-link',
};

/** Bytes up to the first NUL (or the field's end), as a byte string. */
function field(b: Buffer, at: number, len: number): string {
  let end = at;
  while (end < at + len && b[end] !== 0) end++;
  return b.toString('latin1', at, end);
}

/**
 * A numeric field: octal text (padded with spaces or NULs), or GNU base-256 when the first byte
 * has its top bit set (sizes over 8 GiB, negative times, large ids).
 */
export function numberField(b: Buffer, at: number, len: number): number {
  if ((b[at]! & 0x80) !== 0) {
    // 0x80 then a big-endian magnitude, or 0xff then two's complement (read as its complement).
    const negative = b[at] === 0xff;
    let v = 0;
    for (let i = at + 1; i < at + len; i++) v = v * 256 + (negative ? 0xff - b[i]! : b[i]!);
    return negative ? -(v + 1) : v;
  }
  // Octal digits, maybe after spaces, up to a space or NUL (read by hand: six fields a header).
  let i = at;
  const end = at + len;
  while (i < end && b[i] === 0x20) i++;
  let v = 0;
  for (; i < end && b[i] !== 0 && b[i] !== 0x20; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 7) throw new Error(`not an octal number: '${field(b, at, len).trim()}'`);
    v = v * 8 + d;
  }
  for (; i < end && b[i] !== 0; i++) if (b[i] !== 0x20) throw new Error(`not an octal number: '${field(b, at, len).trim()}'`);
  return v;
}

/** The checksum as tar computes it: the header's bytes with the checksum field read as spaces. */
function checksumOk(b: Buffer): boolean {
  const want = numberField(b, 148, 8);
  let unsigned = 8 * 0x20;
  for (let i = 0; i < 148; i++) unsigned += b[i]!;
  for (let i = 156; i < BLOCK; i++) unsigned += b[i]!;
  if (want === unsigned) return true;
  // Old tars summed signed chars; GNU tar accepts both sums, and so does this.
  let signed = unsigned;
  for (let i = 0; i < BLOCK; i++) if ((i < 148 || i >= 156) && b[i]! > 127) signed -= 256;
  return want === signed;
}

const isZero = (b: Buffer): boolean => {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
};

/** A header block as a RawHeader; null for a block of zeros (the end of the archive). Throws on a bad checksum. */
export function parseHeader(b: Buffer): RawHeader | null {
  if (isZero(b)) return null;
  if (!checksumOk(b)) throw new Error('bad header checksum: not a tar archive, or a damaged one');
  const magic = b.toString('latin1', 257, 263);
  const flag = String.fromCharCode(b[156]!);
  let name = field(b, 0, 100);
  let type: HeaderType = FLAGS[flag] ?? 'unsupported';
  let atime: number | null = null;
  if (magic === 'ustar\0') {
    const prefix = field(b, 345, 155);
    if (prefix !== '') name = prefix + '/' + name;
  } else if (magic === 'ustar ') {
    const a = numberField(b, 345, 12);
    if (a !== 0) atime = a;
  }
  // Pre-POSIX tars mark a directory by its trailing slash alone.
  if (type === 'file' && name.endsWith('/')) type = 'dir';
  return {
    type,
    flag,
    name,
    linkname: field(b, 157, 100),
    mode: numberField(b, 100, 8),
    uid: numberField(b, 108, 8),
    gid: numberField(b, 116, 8),
    size: numberField(b, 124, 12),
    mtime: numberField(b, 136, 12),
    atime,
  };
}

/**
 * A PAX extended header's records (`"%d %s=%s\n"`), keys and values as byte strings. A record
 * that does not parse ends the list, as in GNU tar.
 */
export function parsePax(data: Buffer, into: Map<string, string> = new Map()): Map<string, string> {
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(data.toString('latin1', at, space));
    if (!Number.isInteger(len) || len <= space - at || at + len > data.length || data[at + len - 1] !== 0x0a) break;
    const record = data.toString('latin1', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) break;
    into.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return into;
}

/** A PAX time (`1700000000.123456789`, maybe negative) in nanoseconds, exactly; null if it is not one. */
export function paxTimeNs(text: string): bigint | null {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) return null;
  const frac = (m[3] ?? '').slice(0, 9).padEnd(9, '0');
  const ns = BigInt(m[2]!) * 1_000_000_000n + BigInt(frac);
  return m[1] === '-' ? -ns : ns;
}
