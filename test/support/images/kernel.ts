/**
 * The kernel's verdict on every symlink of an unpacked image, as the container sees it: each link
 * of the tree is resolved with openat2(RESOLVE_IN_ROOT) from the tree's root (test/kernel/oracle.c),
 * and mapped to linkcheck's statuses the way the kernel tests map them (test/kernel/judge.ts):
 * the oracle's status is linkcheck's (ok, dangling, loop, notdir, denied, error), and `resolved`
 * is the '/'-based path inside the image when it is ok, null otherwise.
 */
import { kernelResolve } from '../../kernel/oracle.js';
import { listLinks } from '../tree.js';

export interface KernelVerdict {
  status: string;
  resolved: string | null;
  errno: string | null;
}

/** '/'-based path inside `rootfs` (byte string) -> the kernel's jail view of that link. */
export function kernelVerdicts(rootfs: string): Map<string, KernelVerdict> {
  const links = listLinks(rootfs).sort();
  const answers = kernelResolve(rootfs, links);
  const out = new Map<string, KernelVerdict>();
  links.forEach((p, i) => {
    const k = answers[i]!.chroot;
    out.set(p.slice(rootfs.length), { status: k.status, resolved: k.status === 'ok' ? k.resolved : null, errno: k.errno });
  });
  return out;
}

/**
 * Where `inside` ('/'-based; a directory path, say) leads in the image at `rootfs` as the kernel
 * resolves it in the root, or null when it does not resolve.
 */
export function kernelPlace(rootfs: string, inside: string): string | null {
  const [a] = kernelResolve(rootfs, [`${rootfs}${inside === '/' ? '' : inside}`]);
  return a!.chroot.status === 'ok' ? a!.chroot.resolved : null;
}
