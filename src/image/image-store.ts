import * as nodePath from 'node:path';
import { existsSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { FileRange } from './byte-source.js';
import { ImageError } from './image-error.js';
import type { OuterTar } from './outer-tar.js';

/**
 * Where an image's files are: a layout directory on disk or the members of an outer tar. The
 * rest of src/image/ asks for files by their path in the layout (`index.json`,
 * `blobs/sha256/<hex>`, `<id>/layer.tar`) and never learns which.
 */
export interface ImageStore {
  has(path: string): boolean;
  /** A small file (JSON) as text. */
  readText(path: string): Promise<string>;
  /** A blob's bytes, read in place; `done` lets go of what was opened for it. */
  open(path: string): Promise<{ range: FileRange; done(): Promise<void> }>;
}

/** Manifests and indexes are kilobytes; a JSON file bigger than this is not one. */
const MAX_JSON = 16 * 1024 * 1024;

const isMissing = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((err as { code?: string }).code ?? '');

/** A digest as a blob path, refusing anything that is not `<alg>:<encoded>` (no way out of blobs/). */
export function blobPath(digest: string, what: string): string {
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest);
  if (!m) throw new ImageError(`${what}: '${digest}' is not a digest`);
  return `blobs/${m[1]}/${m[2]}`;
}

/** An OCI layout directory, opened read-only, one file at a time. */
export function directoryStore(dir: string): ImageStore {
  const at = (p: string): string => nodePath.join(dir, p);
  const openOrSay = async (p: string): Promise<FileHandle> => {
    try {
      return await open(at(p), 'r');
    } catch (err) {
      if (isMissing(err)) throw new ImageError(`${dir}: the image names ${p}, which is not there`);
      throw err;
    }
  };
  return {
    has: (p) => existsSync(at(p)),
    async readText(p) {
      const h = await openOrSay(p);
      try {
        const size = (await h.stat()).size;
        if (size > MAX_JSON) throw new ImageError(`${dir}: ${p} is ${size} bytes, too big for a manifest`);
        return (await h.readFile()).toString('utf8');
      } finally {
        await h.close();
      }
    },
    async open(p) {
      const handle = await openOrSay(p);
      const length = (await handle.stat()).size;
      return { range: { handle, start: 0, length }, done: () => handle.close() };
    },
  };
}

/** The members of an outer tar whose file is already open. */
export function tarStore(file: string, outer: OuterTar): ImageStore {
  const member = (p: string): FileRange => {
    const r = outer.member(p);
    if (r === undefined) throw new ImageError(`${file}: the image names ${p}, which is not in the archive`);
    return r;
  };
  return {
    has: (p) => outer.member(p) !== undefined,
    async readText(p) {
      const r = member(p);
      if (r.length > MAX_JSON) throw new ImageError(`${file}: ${p} is ${r.length} bytes, too big for a manifest`);
      const buf = Buffer.alloc(r.length);
      await r.handle.read(buf, 0, r.length, r.start);
      return buf.toString('utf8');
    },
    async open(p) {
      return { range: member(p), done: async () => {} };
    },
  };
}
