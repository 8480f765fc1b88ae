/** A mistake in how linkcheck was called or what it was pointed at: shown as one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The report could not be written (a full disk, a closed descriptor, an I/O error): shown as one
 * line, exit 2. A check whose report did not reach its reader must not pass, so this is never
 * swallowed. A reader that went away (EPIPE) is not this: see fdWriter.
 */
export class OutputError extends Error {
  override name = 'OutputError';
  constructor(
    readonly errno: string,
    readonly where = 'standard output',
  ) {
    super(`cannot write to ${where} (${errno}${ERRNO_WORDS[errno] ? ': ' + ERRNO_WORDS[errno] : ''}): the output is incomplete`);
  }
}

const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EBADF: 'the descriptor is not open for writing',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
};

/** The errno code of a thrown fs error, or 'EUNKNOWN'. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}
