import { isWithin, lexicalTarget } from '../core/paths.js';
import type { Finding, LinkFacts, Rule } from './types.js';
import { shown } from './words.js';

export const runtimeMount = {
  id: 'runtime-mount',
  code: 'LC010',
  severity: 'info',
  title: 'Link into a file system mounted at run time',
  enabledBy: '--preset rootfs',
  docs: {
    what:
      'With --preset rootfs (container root filesystems, debootstrap chroots, sysroots): a link that leads into /proc, /sys, /dev/pts, /dev/shm or /run, which are empty in the tree and mounted when the system runs (/dev/fd -> /proc/self/fd, /etc/mtab -> ../proc/self/mounts).',
    why:
      'Such links dangle in the unpacked tree by design and work once the mounts are there; reported as dangling, absolute and escaping they drown the real problems, and rewriting them would gain nothing. They are listed (info) so the picture stays complete.',
    example: { root: '/srv/rootfs', link: '/dev/fd', text: '/proc/self/fd', exists: ['proc/', 'dev/'], options: { preset: 'rootfs' } },
    fix: 'Never fixed: the link is meant for the running system. Its other findings (absolute, dangling, escapes-root) are not reported under this preset.',
  },
  fix: 'none',
  /** With the preset, this finding takes the place of the link's others (see docs.fix). */
  checkLink: (f: LinkFacts): Finding | null => checkLink(f),
} satisfies Rule & { checkLink: unknown };


/** What a running Linux system mounts over these directories of its root (procfs, sysfs, devpts, tmpfs). */
const RUNTIME_MOUNTS = ['/proc', '/sys', '/dev/pts', '/dev/shm', '/run'] as const;

function mountOf(p: string | null): string | null {
  if (p === null) return null;
  return RUNTIME_MOUNTS.find((m) => isWithin(p, m)) ?? null;
}

/**
 * --preset rootfs: the one finding for a link into a run-time mount, or null. The text's own
 * target counts (/dev/fd -> /proc/self/fd), and so does where the jail walk ended or failed, for
 * chains through other links.
 */
function checkLink(f: LinkFacts): Finding | null {
  const mount = mountOf(lexicalTarget(f.text, f.insideDir, f.root)) ?? mountOf(f.jail.status === 'ok' ? f.jail.resolved : f.jail.failedAt);
  if (mount === null) return null;
  return {
    rule: 'runtime-mount',
    code: 'LC010',
    severity: 'info',
    message: `points into ${shown(mount)}, which is mounted when the system runs; not judged as a link in the tree`,
  };
}
