/**
 * The merged root file system of an image as real runtimes build it:
 * - `umociUnpack`: `umoci unpack` (the OCI reference unpacker; as Docker's and containers/storage's
 *   vfs driver do, it applies each layer onto the tree so far, following a lower layer's symlinks
 *   in an upper layer's parent paths);
 * - `podmanTree`: podman with a private storage (`--root`, `--runroot`, `--tmpdir` in a temp dir, a
 *   storage.conf of its own) and the `overlay` or `vfs` driver: `podman pull` then `podman image
 *   mount`. Overlay keeps each layer in a directory of its own and lets the kernel's overlayfs
 *   merge them: an upper directory hides a lower symlink of the same name instead of writing
 *   through it, which is where the two trees part.
 */
import * as fs from 'node:fs';
import { isRoot, removeDir, tempDir } from '../disk.js';
import { umociUnpackInto } from './image.js';
import { tool } from './tools.js';

export interface Unpacked {
  /** Host path of the merged root file system. */
  rootfs: string;
  cleanup(): void;
}

/** `umoci unpack` of the layout `layout` (tag `ref`) into a fresh temp dir; throws with umoci's words when it refuses. */
export function umociUnpack(layout: string, ref: string): Unpacked {
  const base = tempDir('umoci');
  const err = umociUnpackInto(layout, ref, `${base}/bundle`);
  if (err !== null) {
    removeDir(base);
    throw new Error(err);
  }
  return { rootfs: `${base}/bundle/rootfs`, cleanup: () => removeDir(base) };
}

export type PodmanDriver = 'overlay' | 'vfs';

export type PodmanResult = ({ ok: true } & Unpacked) | { ok: false; error: string };

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * The image at `source` (a containers-image transport: `oci-archive:<file>`, `docker-archive:<file>`,
 * `oci:<dir>:<tag>`) pulled into a private podman storage with `driver` and mounted. The result's
 * `rootfs` is podman's mount (the overlay's `merged` directory); `cleanup` unmounts and removes
 * everything. `ok: false` carries podman's words when it refuses the image (overlay cannot apply
 * a layer holding a hard link to a lower layer's file).
 *
 * (oci: names the image after the layout's path, which podman 4.3 rejects when it has upper-case
 * letters: prefer the archives.)
 */
export function podmanTree(source: string, driver: PodmanDriver): PodmanResult {
  if (!isRoot()) return { ok: false, error: 'podman with a storage of its own needs root here' };
  const base = tempDir(`podman-${driver}`);
  for (const d of ['root', 'run', 'tmp', 'net']) fs.mkdirSync(`${base}/${d}`);
  fs.writeFileSync(`${base}/storage.conf`, `[storage]\ndriver = "${driver}"\nrunroot = "${base}/run"\ngraphroot = "${base}/root"\n`);
  // Network configuration of its own too: podman opens (creates) a lock in it even for a pull.
  fs.writeFileSync(`${base}/containers.conf`, `[engine]\nevents_logger = "none"\ncgroup_manager = "cgroupfs"\n[network]\nnetwork_config_dir = "${base}/net"\n`);
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: `${base}/storage.conf`, CONTAINERS_CONF: `${base}/containers.conf` };
  const podman = (...args: string[]) =>
    tool('podman', ['--root', `${base}/root`, '--runroot', `${base}/run`, '--tmpdir', `${base}/tmp`, '--storage-driver', driver, '--events-backend', 'none', '--cgroup-manager', 'cgroupfs', ...args], { env, timeout: 600_000 });
  let mounted: string | null = null;
  const cleanup = (): void => {
    try {
      if (mounted !== null) podman('image', 'unmount', '--all', '--force');
      podman('rmi', '--all', '--force');
    } finally {
      for (const m of mountsUnder(base)) tool('umount', ['-l', m]);
      removeDir(base);
    }
  };
  const pull = podman('pull', '--quiet', source);
  const id = pull.stdout.trim().split('\n').pop() ?? '';
  if (pull.code !== 0 || !/^[0-9a-f]{64}$/.test(id)) {
    cleanup();
    return { ok: false, error: `${pull.line}: ${`${pull.stdout}${pull.stderr}`.trim()}` };
  }
  const mount = podman('image', 'mount', id);
  if (mount.code !== 0) {
    cleanup();
    return { ok: false, error: `${mount.line}: ${`${mount.stdout}${mount.stderr}`.trim()}` };
  }
  mounted = mount.stdout.trim();
  return { ok: true, rootfs: mounted, cleanup };
}
