import type { Rule } from './types.js';
import { shown } from './words.js';

export const unreadable = {
  id: 'unreadable',
  code: 'LC007',
  severity: 'error',
  title: 'Directory or link could not be read',
  fix: 'none',
  docs: {
    what: 'A directory that could not be listed, or a link whose text could not be read, during the walk; or a link that changed during the scan (EAGAIN), so that its verdict would rest on stale data.',
    why: 'Links below it were not audited, so a clean report would not cover that part of the tree: a check that could not look must not pass. It is an error by default (exit code 1); the walk goes on with the rest.',
    example: { root: '/srv/lighty', link: '/var/www/rails/private', text: '(a directory with mode 000, listed by a non-root user)' },
    fix: 'Not fixable: run linkcheck as a user who can read the directory, or exclude it with --exclude.',
  },
  // Unreadable entries are not links: the audit reports them through `describe`.
  check() {
    return null;
  },
} satisfies Rule;

export function describeUnreadable(path: string, errno: string, what: 'directory' | 'link'): string {
  return `${what} ${shown(path)} could not be read (${errno}); nothing below it was checked`;
}

export function describeChanged(path: string, how: string): string {
  return `link ${shown(path)} changed during the scan (EAGAIN): ${how}; it was not judged, run linkcheck again`;
}
