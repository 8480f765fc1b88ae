import type { ByteSource } from './byte-source.js';
import { BLOCK, paxTimeNs, parseHeader, parsePax, type RawHeader } from './tar-header.js';

/** What a tar entry is, once PAX records and GNU long names are applied. */
type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  type: EntryType;
  /** As written in the archive (not cleaned): a byte string. */
  name: string;
  /** A symlink's text, or a hard link's target name: a byte string. */
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content that follow the header (0 for the types that have none). */
  size: number;
  /** Where the content starts in the source. */
  offset: number;
  mtimeNs: bigint;
  atimeNs: bigint;
}

/** Bad tar data, with where it is; the caller names the archive or layer. */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
  constructor(
    message: string,
    /** The offset of the header that broke, when a header did. */
    readonly header?: number,
  ) {
    super(message);
  }
}

/** Go's archive/tar reads these as having no content whatever their size field says; so does this. */
const HEADER_ONLY = new Set<EntryType>(['link', 'symlink', 'char', 'block', 'dir', 'fifo']);

/** GNU long names and PAX records are a few KiB; more is a damaged or hostile archive. */
const MAX_META = 1024 * 1024;

const NS = 1_000_000_000n;
const NO_PAX: ReadonlyMap<string, string> = new Map();
const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

/** Everything that amends the next real entry: long names and PAX records. */
interface Pending {
  longName: string | null;
  longLink: string | null;
  pax: Map<string, string> | null;
}

/** A PAX record's value; an empty one counts as none, as in Go (the header's field stays). */
function paxValue(pax: ReadonlyMap<string, string>, key: string): string | undefined {
  const v = pax.get(key);
  return v === '' ? undefined : v;
}

/** A PAX number (decimal, as Go's strconv.ParseInt reads it), else the header's; out of range is an error. */
function paxNumber(pax: ReadonlyMap<string, string>, key: string, fallback: number): number {
  const v = paxValue(pax, key);
  if (v === undefined) return fallback;
  const n = /^[+-]?\d{1,19}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`the PAX record ${key}=${v} is not a number linkcheck can read`);
  return n;
}

/** A PAX time, else the header's; a value that is not a time is an error, as in Go. */
function paxTime(pax: ReadonlyMap<string, string>, key: string, fallback: bigint): bigint {
  const v = paxValue(pax, key);
  if (v === undefined) return fallback;
  const ns = paxTimeNs(v);
  if (ns === null) throw new Error(`the PAX record ${key}=${v} is not a time`);
  return ns;
}

/**
 * A header plus what amends it, as one entry, in the order Go's archive/tar applies them (the
 * reader containerd, docker and umoci unpack with): PAX records first, an empty value keeping the
 * header's field; then GNU long names over them; then a pre-POSIX type '\0' with a trailing
 * slash is a directory. GNU.sparse.name counts only in a PAX sparse entry. Global PAX records
 * amend nothing (docker and containerd ignore them; umoci refuses the layer).
 */
function entryOf(h: RawHeader, p: Pending, offset: number): TarEntry {
  const pax = p.pax ?? NO_PAX;
  const sparse = ['GNU.sparse.major', 'GNU.sparse.minor', 'GNU.sparse.map'].some((k) => paxValue(pax, k) !== undefined);
  let name = paxValue(pax, 'path') ?? h.name;
  if (sparse) name = paxValue(pax, 'GNU.sparse.name') ?? name;
  // An empty GNU long name, like an empty PAX value, leaves the name as it was.
  name = p.longName || name;
  const linkname = p.longLink || (paxValue(pax, 'linkpath') ?? h.linkname);
  const type: EntryType = h.flag === '\0' && name.endsWith('/') ? 'dir' : (h.type as EntryType);
  const mtimeNs = paxTime(pax, 'mtime', BigInt(h.mtime) * NS);
  const size = HEADER_ONLY.has(type) ? 0 : paxNumber(pax, 'size', h.size);
  if (size < 0) throw new Error(`a negative size (${size})`);
  return {
    type,
    name,
    linkname,
    mode: h.mode & 0o7777,
    uid: paxNumber(pax, 'uid', h.uid),
    gid: paxNumber(pax, 'gid', h.gid),
    size,
    offset,
    mtimeNs,
    atimeNs: paxTime(pax, 'atime', h.atime !== null ? BigInt(h.atime) * NS : mtimeNs),
  };
}

async function readMeta(src: ByteSource, h: RawHeader): Promise<Buffer> {
  if (h.size < 0) throw new TarFormatError(`a ${h.type} record of a negative size at offset ${src.position - BLOCK}`);
  if (h.size > MAX_META) throw new TarFormatError(`a ${h.type} record of ${h.size} bytes at offset ${src.position - BLOCK}`);
  const data = await src.read(h.size);
  if (data.length < h.size) throw new TarFormatError('the archive ends inside a header record');
  await src.skip(pad(h.size));
  return data;
}

/** The header types that amend the next entry instead of being one. */
const AMENDS = new Set<RawHeader['type']>(['gnu-long-name', 'gnu-long-link', 'pax', 'pax-global']);

/** What a parser makes of a header's data; what it refuses is bad tar data at that header. */
function parsed<T>(parse: () => T, at: number): T {
  try {
    return parse();
  } catch (err) {
    throw new TarFormatError(`${(err as Error).message} (header at offset ${at})`, at);
  }
}

/** Folds a long-name or PAX record into `p`; false when `h` is a real entry. */
async function amend(src: ByteSource, h: RawHeader, p: Pending, at: number): Promise<boolean> {
  if (!AMENDS.has(h.type)) return false;
  const data = await readMeta(src, h);
  if (h.type === 'gnu-long-name') p.longName = field0(data);
  else if (h.type === 'gnu-long-link') p.longLink = field0(data);
  else if (h.type === 'pax') p.pax = parsed(() => parsePax(data), at);
  // A global record amends nothing, but must still parse (Go refuses a layer whose records do not).
  else parsed(() => parsePax(data), at);
  return true;
}

/** A GNU long name: the bytes up to the first NUL. */
const field0 = (b: Buffer): string => {
  const nul = b.indexOf(0);
  return b.toString('latin1', 0, nul < 0 ? b.length : nul);
};

/**
 * The entries of a tar archive, in order, with their contents skipped (never read into memory).
 * Two zero blocks, or the end of the data, end the archive.
 */
export async function* tarEntries(src: ByteSource): AsyncGenerator<TarEntry> {
  const p: Pending = { longName: null, longLink: null, pax: null };
  let zeros = 0;
  for (;;) {
    const at = src.position;
    const block = await src.read(BLOCK);
    if (block.length === 0) return;
    if (block.length < BLOCK) throw new TarFormatError(`the archive ends inside a header at offset ${at}`, at);
    const h = parsed(() => parseHeader(block), at);
    if (h === null) {
      if (++zeros === 2) return;
      continue;
    }
    zeros = 0;
    if (await amend(src, h, p, at)) continue;
    if (h.type === 'unsupported') throw new TarFormatError(`entry type '${h.flag}' is not supported (header at offset ${at})`);
    const entry = parsed(() => entryOf(h, p, src.position), at);
    p.longName = p.longLink = p.pax = null;
    yield entry;
    // Contents cut short are a damaged layer, not an end: the entries after them are unknown. A
    // missing pad after the last contents is an end, as Go's reader takes it.
    if ((await src.skip(entry.size)) < entry.size) throw new TarFormatError(`the archive ends inside the contents of '${entry.name}' (header at offset ${at})`, at);
    await src.skip(pad(entry.size));
  }
}
