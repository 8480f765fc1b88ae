import type { Rule } from './types.js';

export const runtimeMount = {
  id: 'runtime-mount',
  code: 'LC010',
  severity: 'info',
  title: 'Link into a file system mounted at run time',
  fixable: false,
  enabledBy: '--preset rootfs',
  docs: {
    what:
      'With --preset rootfs (container root filesystems, debootstrap chroots, sysroots): a link that leads into /proc, /sys, /dev/pts, /dev/shm or /run, which are empty in the tree and mounted when the system runs (/dev/fd -> /proc/self/fd, /etc/mtab -> ../proc/self/mounts).',
    why:
      'Such links dangle in the unpacked tree by design and work once the mounts are there; reported as dangling, absolute and escaping they drown the real problems, and rewriting them would gain nothing. They are listed (info) so the picture stays complete.',
    example: { root: '/srv/rootfs', link: '/dev/fd', text: '/proc/self/fd', exists: ['proc/', 'dev/'], options: { preset: 'rootfs' } },
    fix: 'Never fixed: the link is meant for the running system. Its other findings (absolute, dangling, escapes-root) are not reported under this preset.',
  },
  // Judged by the audit with --preset rootfs (see src/runtime-mounts.ts).
  check() {
    return null;
  },
} satisfies Rule;
