/** A mistake in how linkcheck was called or what it was pointed at: shown as one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The errno code of a thrown fs error, or 'EUNKNOWN'. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}
