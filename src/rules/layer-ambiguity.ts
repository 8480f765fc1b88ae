import type { LayerConflict, LayerName, Rule, TextFinding } from './types.js';
import { shown } from './words.js';

const WHAT: Record<LayerConflict['kind'], string> = {
  'entry-through-symlink': 'written through a symlink of a lower layer',
  'whiteout-through-symlink': 'a whiteout through a symlink of a lower layer',
  'cross-layer-hardlink': 'a hard link to a file of a lower layer',
};

/** `layer 2 (sha256:3f2a91c0b7e4)`: enough of the digest to find it in `skopeo inspect`. */
export function layerShort(l: LayerName | undefined, index: number): string {
  const digest = l?.digest;
  return digest ? `layer ${index} (${digest.slice(0, 19)})` : `layer ${index}`;
}

export const layerAmbiguity = {
  id: 'layer-ambiguity',
  code: 'LC013',
  severity: 'warning',
  title: 'Image layers that container runtimes merge differently',
  fix: 'none',
  enabledBy: '--image',
  docs: {
    what:
      'With --image: an entry an upper layer writes under a path that is a symlink in a lower layer, a whiteout placed under such a symlink (or under a symlink its own layer writes), or a hard link to a file a lower layer created. The message names both layers.',
    why:
      'The image spec does not say what these mean, and runtimes disagree: umoci, tar and podman\'s vfs driver follow the lower layer\'s link (the entry lands at its target), while overlayfs (podman\'s and docker\'s overlay drivers) makes a real directory that hides the link; a cross-layer hard link cannot be unpacked layer by layer, and stops sharing its inode on overlayfs once copied up. The same image gives two root file systems.',
    example: {
      root: '/',
      link: '/etc/alternatives/vi',
      text: '/usr/bin/vim',
      exists: ['usr/bin/vim'],
      options: {
        image: {
          layers: [
            { index: 0, digest: 'sha256:1111111111111111111111111111111111111111111111111111111111111111' },
            { index: 1, digest: 'sha256:2222222222222222222222222222222222222222222222222222222222222222' },
          ],
          ambiguities: [
            { kind: 'entry-through-symlink', path: '/etc/alternatives/vi', upper: 1, lower: 0, detail: 'layer 1 writes under /etc/alternatives, a symlink from layer 0' },
          ],
        },
      },
    },
    fix:
      'Never by --fix (an image is changed by building it again): write the entry at the link\'s target path in the Dockerfile (or make the directory real in the lower layer), and copy a file instead of hard-linking across layers.',
  },
  /** A finding for one conflict, naming both layers. */
  checkPath(c: LayerConflict, layers: readonly LayerName[]): TextFinding {
    const upper = layerShort(layers[c.upper], c.upper);
    const lower = layerShort(layers[c.lower], c.lower);
    // A whiteout under a symlink of its own layer: one layer, whose order runtimes read differently.
    const message =
      c.upper === c.lower ? `${shown(c.path)} is a whiteout under a symlink of its own layer: ${upper}: ${c.detail}` : `${shown(c.path)} is ${WHAT[c.kind]}: ${upper} over ${lower}: ${c.detail}`;
    return { rule: 'layer-ambiguity', code: 'LC013', severity: 'warning', message };
  },
} satisfies Rule & { checkPath: unknown };
