import { toDisplay } from '../core/bytes.js';
import type { Resolution } from '../resolve/resolver.js';

/** A path for a message: escaped, so a crafted name cannot break or spoof any output. */
export const shown = toDisplay;

/** What a failed resolution means, in plain words, for a message. */
export function failure(r: Resolution): string {
  const at = r.failedAt === null ? '' : shown(r.failedAt);
  switch (r.status) {
    case 'dangling':
      return `${at} does not exist`;
    case 'notdir':
      return `${at} is not a directory`;
    case 'loop':
      return `more than 40 links are followed (a loop)`;
    case 'denied':
      return `permission denied at ${at}`;
    case 'error':
      return `${r.errno ?? 'error'} at ${at}`;
    case 'ok':
      return `resolves to ${shown(r.resolved ?? '')}`;
  }
}
