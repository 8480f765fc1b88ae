/**
 * The images the `--image` tests read, described layer by layer (see image.ts for the entry
 * kinds). Shared by test/integration/images/harness.test.ts (the tools agree with this file's
 * comments) and images.test.ts (linkcheck agrees with the tools).
 */
import type { ImageSpec } from './image.js';

/** A 120-byte directory name (PAX `path`/`linkpath` records), and a 110-byte one (GNU L/K). */
const PAX_DIR = `long-${'p'.repeat(115)}`;
const GNU_DIR = `long-${'g'.repeat(105)}`;

/**
 * Every case but the cross-layer hard link (podman's overlay refuses that image whole: see
 * CROSS_LINK). Layer 0 is a BusyBox-style base, layer 1 changes it, layer 2 has GNU long names
 * and a sparse file.
 */
export const CASES: ImageSpec = {
  name: 'linkcheck-cases',
  layers: [
    {
      note: 'base: BusyBox-style links, climbs, a symlink in the middle of a text, loops',
      entries: [
        { dir: 'bin' },
        { file: 'bin/busybox', data: '#!busybox\n', mode: 0o755 },
        // BusyBox style: absolute texts, fine in the container, dangling on the host.
        { symlink: 'bin/sh', to: '/bin/busybox' },
        { symlink: 'bin/ls', to: 'busybox' },
        { dir: 'etc' },
        { file: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
        // Replaced by a regular file in layer 1.
        { symlink: 'etc/conf', to: 'passwd' },
        { dir: 'etc/alternatives' },
        { symlink: 'etc/alternatives/editor', to: '/usr/bin/vim.tiny' },
        { dir: 'usr' },
        { dir: 'usr/bin' },
        { symlink: 'usr/bin/env', to: '/bin/busybox' },
        // `../` past the image root: the root stops it, as chroot(2) does.
        { symlink: 'usr/bin/climb', to: '../../../../../../etc/passwd' },
        { symlink: 'usr/bin/climb-dangles', to: '../../../../../../nonexistent/x' },
        { dir: 'usr/lib' },
        { dir: 'usr/lib/deep' },
        { dir: 'usr/lib/deep/inner' },
        { dir: 'usr/lib/deep/bin' },
        { file: 'usr/lib/deep/x', data: 'x\n' },
        { symlink: 'usr/lib/sym', to: 'deep/inner' },
        // A relative symlink, and a hard link to it in another directory: the same text, read
        // from bin/, dangles.
        { symlink: 'usr/lib/rel', to: 'deep/x' },
        { hardlink: 'bin/rel', to: 'usr/lib/rel' },
        { symlink: 'lib', to: 'usr/lib' },
        // lib/sym/../bin: the kernel follows lib and sym before `..` (/usr/lib/deep/bin); a
        // lexical reading would say /usr/lib/bin, which does not exist.
        { symlink: 'libbin', to: 'lib/sym/../bin' },
        // Replaced in layer 1 by a directory entry of the same name (the runtimes agree on that).
        { symlink: 'lib64', to: 'usr/lib' },
        { symlink: 'loop1', to: 'loop2' },
        { symlink: 'loop2', to: 'loop1' },
        { symlink: 'notdir', to: 'etc/passwd/x' },
        // A directory replaced by a link in layer 1.
        { dir: 'data' },
        { file: 'data/old.txt', data: 'old\n' },
        { dir: 'opt' },
        { dir: 'opt/a' },
        { file: 'opt/a/1', data: '1\n' },
        { file: 'opt/a/2', data: '2\n' },
        { symlink: 'opt/a/l1', to: '1' },
        { dir: 'opt/b' },
        { file: 'opt/b/keep', data: 'keep\n' },
        { file: 'opt/b/gone', data: 'gone\n' },
        // Whited out in layer 1.
        { symlink: 'opt/oldlink', to: 'a/1' },
        { dir: 'srv' },
        { dir: 'srv/real' },
        { file: 'srv/real/x', data: 'x\n' },
        { file: 'srv/real/y', data: 'y\n' },
        // Layer 1 whites out srv/alt/x: under this symlink.
        { symlink: 'srv/alt', to: 'real' },
        { symlink: 'srv/y', to: '/srv/alt/y' },
      ],
    },
    {
      note: 'changes: replacements, whiteouts, entries under lower symlinks, PAX long names',
      entries: [
        // A directory replaced by a link (no whiteout: the new entry replaces the old).
        { symlink: 'data', to: '/srv/real' },
        // A link replaced by a file.
        { dir: 'etc' },
        { file: 'etc/conf', data: 'a file now\n' },
        // Opaque whiteout: opt/a holds only what this layer puts there.
        { dir: 'opt' },
        { dir: 'opt/a' },
        { opaque: 'opt/a' },
        { file: 'opt/a/3', data: '3\n' },
        { symlink: 'opt/a/l3', to: '3' },
        { symlink: 'opt/a/l1-gone', to: '1' },
        // Explicit whiteouts, of a file and of a symlink.
        { dir: 'opt/b' },
        { whiteout: 'opt/b/gone' },
        { whiteout: 'opt/oldlink' },
        // A whiteout under a lower layer's symlink (srv/alt -> real), no directory entry for
        // srv/alt: umoci removes srv/real/x; overlay makes srv/alt a directory and keeps srv/real/x.
        { whiteout: 'srv/alt/x' },
        // Entries under a lower layer's symlink (lib -> usr/lib), no directory entry for lib:
        // umoci writes through the link (/usr/lib/added); overlay makes /lib a directory holding
        // only these (and /lib/sym, /lib/rel vanish from the container).
        { file: 'lib/added', data: 'added\n' },
        { symlink: 'lib/added-link', to: '../bin/busybox' },
        // The same with a directory entry first: the upper directory replaces the lower symlink in
        // both runtimes.
        { dir: 'lib64' },
        { file: 'lib64/ld.so', data: 'ld\n' },
        // Names and link texts over 100 bytes, as PAX records.
        { dir: 'usr' },
        { dir: 'usr/share' },
        { dir: `usr/share/${PAX_DIR}` },
        { file: `usr/share/${PAX_DIR}/file`, data: 'pax\n' },
        { symlink: `usr/share/${PAX_DIR}/abs`, to: `/usr/share/${PAX_DIR}/file` },
        { symlink: 'usr/share/pax-link', to: `${PAX_DIR}/file` },
      ],
    },
    {
      // (A sparse file in the old GNU form, typeflag 'S', is no case: umoci and podman refuse the
      // layer whole; see SPARSE_GNU.)
      note: 'GNU long names (././@LongLink) and a sparse file (PAX 1.0)',
      longNames: 'gnu',
      entries: [
        { dir: 'var' },
        { dir: `var/${GNU_DIR}` },
        { file: `var/${GNU_DIR}/file`, data: 'gnu\n' },
        { symlink: `var/${GNU_DIR}/abs`, to: `/var/${GNU_DIR}/file` },
        { symlink: 'var/gnu-link', to: `${GNU_DIR}/file` },
        { sparse: 'var/sparse-pax', size: 1 << 20, chunks: [[4096, 'a\n'], [1 << 19, 'b\n']], format: 'pax' },
        { symlink: 'var/to-sparse', to: 'sparse-pax' },
        { symlink: 'var/through-sparse', to: 'sparse-pax/x' },
      ],
    },
  ],
};

/**
 * Cross-layer hard links: a file and a relative symlink of layer 0, hard-linked from layer 1 (in
 * another directory). umoci and podman's vfs link to the lower inode; podman's overlay refuses
 * the layer ("processing tar file(no such file or directory)"): the runtimes disagree on the
 * whole image.
 */
export const CROSS_LINK: ImageSpec = {
  name: 'linkcheck-cross-link',
  layers: [
    {
      note: 'base',
      entries: [
        { dir: 'bin' },
        { file: 'bin/busybox', data: '#!busybox\n', mode: 0o755 },
        { dir: 'usr' },
        { dir: 'usr/lib' },
        { dir: 'usr/lib/deep' },
        { file: 'usr/lib/deep/x', data: 'x\n' },
        { symlink: 'usr/lib/rel', to: 'deep/x' },
      ],
    },
    {
      note: 'hard links to layer 0',
      entries: [
        { dir: 'bin' },
        { hardlink: 'bin/sh', to: 'bin/busybox' },
        { hardlink: 'bin/rel', to: 'usr/lib/rel' },
      ],
    },
  ],
};

/** A sparse file in the old GNU form (typeflag 'S'), which umoci and podman refuse ("unhandled tar header type 83"). */
export const SPARSE_GNU: ImageSpec = {
  name: 'linkcheck-sparse-gnu',
  layers: [{ note: 'old GNU sparse', entries: [{ dir: 'var' }, { sparse: 'var/sparse-gnu', size: 1 << 20, chunks: [[0, 'head\n'], [1 << 18, 'middle\n']], format: 'gnu' }] }],
};

/** An invalid image: layer 1 holds one bad entry; linkcheck must exit 2 with one line naming layer 1 and the entry. */
export interface InvalidCase {
  spec: ImageSpec;
  /** The line on stderr must contain one of these (the entry's name, or what it links to). */
  mentions: string[];
}

const BASE_LAYER = {
  note: 'base',
  entries: [{ dir: 'etc' }, { file: 'etc/passwd', data: 'root:x:0:0::/:/bin/sh\n' }, { symlink: 'etc/motd', to: 'passwd' }],
};

export const INVALID: readonly InvalidCase[] = [
  {
    spec: { name: 'linkcheck-invalid-bare-wh', layers: [BASE_LAYER, { note: 'a whiteout with no name', entries: [{ dir: 'etc' }, { file: 'etc/.wh.', data: '' }] }] },
    mentions: ['.wh.'],
  },
  {
    spec: { name: 'linkcheck-invalid-hardlink', layers: [BASE_LAYER, { note: 'a hard link to nothing', entries: [{ dir: 'etc' }, { hardlink: 'etc/group', to: 'etc/nonexistent' }] }] },
    mentions: ['etc/group', 'etc/nonexistent'],
  },
  {
    spec: { name: 'linkcheck-invalid-dotdot', layers: [BASE_LAYER, { note: '`..` in a name', entries: [{ dir: 'etc' }, { file: 'etc/../../escape', data: 'out\n' }] }] },
    mentions: ['../escape'],
  },
];
