import { isWithin } from './paths.js';
import type { Finding, LinkFacts } from './rules/types.js';
import { runtimeMount } from './rules/runtime-mount.js';
import { shown } from './rules/words.js';
import { lexicalTarget } from './deploy-layout.js';

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
export function judgeRuntimeMount(f: LinkFacts): Finding | null {
  const mount = mountOf(lexicalTarget(f)) ?? mountOf(f.jail.status === 'ok' ? f.jail.resolved : f.jail.failedAt);
  if (mount === null) return null;
  return {
    rule: runtimeMount.id,
    code: runtimeMount.code,
    severity: runtimeMount.severity,
    message: `points into ${shown(mount)}, which is mounted when the system runs; not judged as a link in the tree`,
  };
}
