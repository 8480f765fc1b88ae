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

/** Everything that amends the next real entry: long names and PAX records, local and global. */
interface Pending {
  longName: string | null;
  longLink: string | null;
  pax: Map<string, string> | null;
  global: Map<string, string>;
}

/** A header plus what amends it, as one entry. */
function entryOf(h: RawHeader, p: Pending, offset: number): TarEntry {
  const pax = p.global.size === 0 ? (p.pax ?? NO_PAX) : new Map([...p.global, ...(p.pax ?? [])]);
  const num = (key: string, fallback: number): number => {
    const v = pax.get(key);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : fallback;
  };
  const mtimeNs = paxTimeNs(pax.get('mtime') ?? '') ?? BigInt(h.mtime) * NS;
  const type = h.type as EntryType;
  const size = num('size', h.size);
  return {
    type,
    // GNU's PAX sparse format hides the real name in its own record.
    name: pax.get('GNU.sparse.name') ?? pax.get('path') ?? p.longName ?? h.name,
    linkname: pax.get('linkpath') ?? p.longLink ?? h.linkname,
    mode: h.mode & 0o7777,
    uid: num('uid', h.uid),
    gid: num('gid', h.gid),
    size: HEADER_ONLY.has(type) ? 0 : size,
    offset,
    mtimeNs,
    atimeNs: paxTimeNs(pax.get('atime') ?? '') ?? (h.atime !== null ? BigInt(h.atime) * NS : mtimeNs),
  };
}

async function readMeta(src: ByteSource, h: RawHeader): Promise<Buffer> {
  if (h.size > MAX_META) throw new TarFormatError(`a ${h.type} record of ${h.size} bytes at offset ${src.position - BLOCK}`);
  const data = await src.read(h.size);
  if (data.length < h.size) throw new TarFormatError('the archive ends inside a header record');
  await src.skip(pad(h.size));
  return data;
}

/** Folds a long-name or PAX record into `p`; false when `h` is a real entry. */
async function amend(src: ByteSource, h: RawHeader, p: Pending): Promise<boolean> {
  switch (h.type) {
    case 'gnu-long-name':
      p.longName = field0(await readMeta(src, h));
      return true;
    case 'gnu-long-link':
      p.longLink = field0(await readMeta(src, h));
      return true;
    case 'pax':
      p.pax = parsePax(await readMeta(src, h));
      return true;
    case 'pax-global':
      parsePax(await readMeta(src, h), p.global);
      return true;
    default:
      return false;
  }
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
  const p: Pending = { longName: null, longLink: null, pax: null, global: new Map() };
  let zeros = 0;
  for (;;) {
    const at = src.position;
    const block = await src.read(BLOCK);
    if (block.length === 0) return;
    if (block.length < BLOCK) throw new TarFormatError(`the archive ends inside a header at offset ${at}`, at);
    let h: RawHeader | null;
    try {
      h = parseHeader(block);
    } catch (err) {
      throw new TarFormatError(`${(err as Error).message} (header at offset ${at})`, at);
    }
    if (h === null) {
      if (++zeros === 2) return;
      continue;
    }
    zeros = 0;
    if (await amend(src, h, p)) continue;
    if (h.type === 'unsupported') throw new TarFormatError(`entry type '${h.flag}' is not supported (header at offset ${at})`);
    const entry = entryOf(h, p, src.position);
    p.longName = p.longLink = p.pax = null;
    yield entry;
    await src.skip(entry.size + pad(entry.size));
  }
}
