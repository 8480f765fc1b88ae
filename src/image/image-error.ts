import { toDisplay } from '../core/bytes.js';
import { UsageError } from '../core/errors.js';

/**
 * An image linkcheck cannot read as the OCI spec defines it: a layer that would not apply (a `..`
 * name, a bare `.wh.`, a hard link to nothing), a manifest that is not JSON, a blob that is not
 * there. It is the input's fault, not linkcheck's, so it is a UsageError: one line, exit 2.
 */
export class ImageError extends UsageError {
  override name = 'ImageError';
}

/** What a layer is called in messages: its place in the manifest and, when known, its digest. */
export function layerLabel(index: number, digest: string | null): string {
  return digest === null ? `layer ${index}` : `layer ${index} (${digest})`;
}

/** The error for an entry that makes its layer invalid; `name` is the entry's byte string. */
export function invalidEntry(layer: string, name: string, why: string): ImageError {
  return new ImageError(`invalid ${layer}: entry '${toDisplay(name)}': ${why}`);
}

/** Compressed data that does not decode (zlib's and fzstd's errors, and zstd framing), before the layer is named. */
export class DamagedData extends Error {
  override name = 'DamagedData';
}
