/**
 * A minimal tar writer for hand-made image layers: every entry is written exactly as described,
 * in order, with nothing added (no implicit parent directories, no normalisation of names), so a
 * layer can hold what real builders never write: a hard link to an entry of another layer, a
 * whiteout under a lower layer's symlink, a bare `.wh.`, a `..` in a name.
 *
 * Headers are POSIX ustar. A name or link text longer than 100 bytes goes into a PAX extended
 * header (`x`: `path=`, `linkpath=`) or, with `longNames: 'gnu'`, into GNU `././@LongLink`
 * entries (`L` for the name, `K` for the link text), as GNU tar's --format=gnu writes them.
 * Sparse files come in the two forms Go's archive/tar (umoci, containers/storage) and GNU tar
 * read: old GNU (`S`, map in the header) and PAX 1.0 (GNU.sparse.major=1, map in the data).
 * Output is deterministic: same entries, same bytes.
 */

/** One tar entry. Paths are layer-relative ('usr/bin/env'), written as given (UTF-8). */
export type TarEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data?: string | Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'hardlink'; path: string; target: string }
  /** A sparse file of `size` bytes: `chunks` of data at offsets, holes (zeros) between them. */
  | { kind: 'sparse'; path: string; size: number; chunks: ReadonlyArray<readonly [offset: number, data: string]>; format: 'gnu' | 'pax'; mode?: number };

export interface TarOptions {
  /** How names and link texts over 100 bytes are written (default 'pax'). */
  longNames?: 'pax' | 'gnu';
  /** mtime of every entry (seconds; default 0). */
  mtime?: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as GNU tar writes them.
  const s = value.toString(8);
  if (s.length > width - 1) throw new Error(`tar: ${value} does not fit in ${width} octal bytes`);
  return s.padStart(width - 1, '0');
}

function put(h: Buffer, offset: number, width: number, text: string | Buffer): void {
  const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  if (b.length > width) throw new Error(`tar: field of ${width} bytes cannot hold ${b.length} bytes`);
  b.copy(h, offset);
}

interface Header {
  name: Buffer;
  mode: number;
  size: number;
  mtime: number;
  type: string;
  linkname?: Buffer;
  gnu?: boolean;
  /** Old GNU sparse: the map (offset, numbytes) and the real size. */
  sparse?: { map: Array<readonly [number, number]>; realSize: number };
}

function header(f: Header): Buffer {
  const h = Buffer.alloc(BLOCK);
  put(h, 0, 100, f.name);
  put(h, 100, 8, octal(f.mode, 8));
  put(h, 108, 8, octal(0, 8));
  put(h, 116, 8, octal(0, 8));
  put(h, 124, 12, octal(f.size, 12));
  put(h, 136, 12, octal(f.mtime, 12));
  put(h, 156, 1, f.type);
  if (f.linkname) put(h, 157, 100, f.linkname);
  if (f.gnu) put(h, 257, 8, 'ustar  \0');
  else put(h, 257, 8, 'ustar\u000000');
  put(h, 265, 32, 'root');
  put(h, 297, 32, 'root');
  if (f.sparse) {
    if (f.sparse.map.length > 4) throw new Error('tar: old GNU sparse maps of more than 4 chunks need extension headers (not written here)');
    f.sparse.map.forEach(([off, n], i) => {
      put(h, 386 + i * 24, 12, octal(off, 12));
      put(h, 386 + i * 24 + 12, 12, octal(n, 12));
    });
    put(h, 483, 12, octal(f.sparse.realSize, 12));
  }
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

const pad = (b: Buffer): Buffer => (b.length % BLOCK === 0 ? b : Buffer.concat([b, Buffer.alloc(BLOCK - (b.length % BLOCK))]));

/** A PAX record `"%d %s=%s\n"`, its length counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let n = body.length + 1;
  while (String(n).length + body.length !== n) n = String(n).length + body.length;
  return Buffer.concat([Buffer.from(String(n)), body]);
}

function paxHeader(name: Buffer, records: Array<[string, Buffer]>, mtime: number): Buffer {
  const data = Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
  const hname = Buffer.from(`PaxHeaders/${name.toString('latin1').split('/').filter((c) => c !== '').pop() ?? 'x'}`.slice(0, 99), 'latin1');
  return Buffer.concat([header({ name: hname, mode: 0o644, size: data.length, mtime, type: 'x' }), pad(data)]);
}

function gnuLong(type: 'L' | 'K', value: Buffer, mtime: number): Buffer {
  const data = Buffer.concat([value, Buffer.from([0])]);
  return Buffer.concat([header({ name: Buffer.from('././@LongLink'), mode: 0o644, size: data.length, mtime, type, gnu: true }), pad(data)]);
}

/**
 * The bytes a sparse file holds, and its map of data chunks (offset, length), in order. Each
 * chunk is padded with zeros to a whole number of 512-byte blocks (where the next chunk and the
 * size leave room): the file's content is the same, and GNU tar, which reads every chunk from a
 * block boundary (as its writer makes them), reads it back right.
 */
function sparseParts(e: Extract<TarEntry, { kind: 'sparse' }>): { map: Array<readonly [number, number]>; data: Buffer } {
  const chunks = [...e.chunks].sort((a, b) => a[0] - b[0]);
  const map: Array<readonly [number, number]> = [];
  const parts: Buffer[] = [];
  let end = 0;
  chunks.forEach(([off, text], i) => {
    const b = Buffer.from(text, 'utf8');
    if (off < end || off + b.length > e.size) throw new Error(`tar: sparse chunks of ${e.path} overlap or pass its size`);
    const room = Math.min(chunks[i + 1]?.[0] ?? e.size, e.size) - off;
    const len = Math.max(b.length, Math.min(room, Math.ceil(b.length / BLOCK) * BLOCK));
    map.push([off, len]);
    parts.push(Buffer.concat([b, Buffer.alloc(len - b.length)]));
    end = off + len;
  });
  // A trailing hole is written as an empty chunk at the end, as GNU tar does.
  if (end < e.size) map.push([e.size, 0]);
  return { map, data: Buffer.concat(parts) };
}

function sparseEntry(e: Extract<TarEntry, { kind: 'sparse' }>, opts: Required<TarOptions>): Buffer {
  const { map, data } = sparseParts(e);
  const mode = e.mode ?? 0o644;
  const name = Buffer.from(e.path, 'utf8');
  if (e.format === 'gnu') {
    if (name.length > 100) throw new Error(`tar: old GNU sparse ${e.path}: long names not written here`);
    return Buffer.concat([header({ name, mode, size: data.length, mtime: opts.mtime, type: 'S', gnu: true, sparse: { map, realSize: e.size } }), pad(data)]);
  }
  // PAX 1.0: the real name in GNU.sparse.name, the map as decimal lines at the start of the data.
  const mapText = [String(map.length), ...map.flatMap(([o, n]) => [String(o), String(n)])].join('\n') + '\n';
  const body = Buffer.concat([pad(Buffer.from(mapText)), data]);
  const slash = e.path.lastIndexOf('/');
  const fake = Buffer.from(`${slash < 0 ? '.' : e.path.slice(0, slash)}/GNUSparseFile.0/${e.path.slice(slash + 1)}`.slice(0, 100), 'utf8');
  const pax = paxHeader(name, [
    ['GNU.sparse.major', Buffer.from('1')],
    ['GNU.sparse.minor', Buffer.from('0')],
    ['GNU.sparse.name', name],
    ['GNU.sparse.realsize', Buffer.from(String(e.size))],
  ], opts.mtime);
  return Buffer.concat([pax, header({ name: fake, mode, size: body.length, mtime: opts.mtime, type: '0' }), pad(body)]);
}

function entryBytes(e: TarEntry, opts: Required<TarOptions>): Buffer {
  if (e.kind === 'sparse') return sparseEntry(e, opts);
  const name = Buffer.from(e.kind === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path, 'utf8');
  const linkname = e.kind === 'symlink' || e.kind === 'hardlink' ? Buffer.from(e.target, 'utf8') : undefined;
  const data = e.kind === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : (e.data ?? Buffer.alloc(0))) : Buffer.alloc(0);
  const type = { dir: '5', file: '0', symlink: '2', hardlink: '1' }[e.kind];
  const mode = e.kind === 'dir' ? (e.mode ?? 0o755) : e.kind === 'file' ? (e.mode ?? 0o644) : 0o777;
  const out: Buffer[] = [];
  const longName = name.length > 100;
  const longLink = linkname !== undefined && linkname.length > 100;
  const gnu = opts.longNames === 'gnu';
  if (gnu) {
    if (longName) out.push(gnuLong('L', name, opts.mtime));
    if (longLink) out.push(gnuLong('K', linkname, opts.mtime));
  } else if (longName || longLink) {
    const records: Array<[string, Buffer]> = [];
    if (longName) records.push(['path', name]);
    if (longLink) records.push(['linkpath', linkname]);
    out.push(paxHeader(name, records, opts.mtime));
  }
  out.push(
    header({
      name: longName ? name.subarray(0, 100) : name,
      mode,
      size: data.length,
      mtime: opts.mtime,
      type,
      gnu,
      ...(linkname ? { linkname: longLink ? linkname.subarray(0, 100) : linkname } : {}),
    }),
  );
  if (data.length > 0) out.push(pad(data));
  return Buffer.concat(out);
}

/** The tar archive of `entries`, in order, ending with the two zero blocks. */
export function writeTar(entries: readonly TarEntry[], options: TarOptions = {}): Buffer {
  const opts: Required<TarOptions> = { longNames: options.longNames ?? 'pax', mtime: options.mtime ?? 0 };
  return Buffer.concat([...entries.map((e) => entryBytes(e, opts)), Buffer.alloc(2 * BLOCK)]);
}
