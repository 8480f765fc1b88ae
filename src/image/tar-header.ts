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
 * A numeric field, read as Go's archive/tar reads it (containerd, umoci and docker unpack layers
 * with it, so a field it reads differently would let an archive show linkcheck other entries than
 * the runtime): octal text with spaces and NULs trimmed from both ends and cut at the first NUL
 * left, or GNU base-256 when the first byte has its top bit set (sizes over 8 GiB, negative
 * times, large ids): bit 0x40 of that byte is the sign, its low bits count. Throws where Go
 * reports ErrHeader.
 */
export function numberField(b: Buffer, at: number, len: number): number {
  const end = at + len;
  if ((b[at]! & 0x80) !== 0) {
    const inv = (b[at]! & 0x40) !== 0 ? 0xff : 0;
    let v = BigInt((b[at]! ^ inv) & 0x7f);
    for (let i = at + 1; i < end; i++) v = (v << 8n) | BigInt(b[i]! ^ inv);
    const n = inv === 0 ? v : -v - 1n;
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error('a base-256 number out of range');
    return Number(n);
  }
  let i = at;
  let last = end;
  while (i < last && (b[i] === 0x20 || b[i] === 0)) i++;
  while (last > i && (b[last - 1] === 0x20 || b[last - 1] === 0)) last--;
  let v = 0;
  for (; i < last && b[i] !== 0; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 7) throw new Error(`not an octal number: '${field(b, at, len).trim()}'`);
    v = v * 8 + d;
  }
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
  const type: HeaderType = FLAGS[flag] ?? 'unsupported';
  let atime: number | null = null;
  if (magic === 'ustar\0') {
    const prefix = field(b, 345, 155);
    if (prefix !== '') name = prefix + '/' + name;
  } else if (magic === 'ustar ') {
    const a = numberField(b, 345, 12);
    if (a !== 0) atime = a;
  }
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
 * that does not parse, or a NUL where POSIX allows none, is an error, as in Go's archive/tar (the
 * runtimes' reader: they refuse such a layer).
 */
export function parsePax(data: Buffer, into: Map<string, string> = new Map()): Map<string, string> {
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = space < 0 ? NaN : Number(data.toString('latin1', at, space));
    if (!/^\d+$/.test(data.toString('latin1', at, space < 0 ? at : space)) || len <= space - at || at + len > data.length || data[at + len - 1] !== 0x0a)
      throw new Error(`a PAX record that does not parse at byte ${at}`);
    const record = data.toString('latin1', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw new Error(`a PAX record without a key at byte ${at}`);
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    const nulIn = ['path', 'linkpath', 'uname', 'gname'].includes(key) ? value : key;
    if (nulIn.includes('\0')) throw new Error(`a NUL in the PAX record '${key.replace(/\0/g, '\\0')}'`);
    into.set(key, value);
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
