import type { Resolution } from '../resolve/resolver.js';

export type Severity = 'error' | 'warning' | 'info';

/** The layouts a preset judges (config/policy.ts reads them from here). */
export type Preset = 'deploy' | 'rootfs' | 'sysroot';

type FixAvailability = 'rewrite' | 'reason' | 'none';

/** What stops the reader, as the auditor found it (see LinkFacts.reader). */
export interface Blocked {
  /** The directory it cannot search, or the link it may not follow (path inside the jail). */
  at: string;
  why: 'search' | 'follow';
  /** `drwx------`, and the owner and group by name. */
  mode: string;
  owner: string;
  group: string;
  /** Which permission bits speak for the reader (owner, group, others), or `acl` when they allow it and the kernel still refuses. */
  bits: 'owner' | 'group' | 'others' | 'acl';
}

/** What container runtimes disagree on in an image's layers, as the image reader found it (the kinds: src/image/merge.ts). */
export interface LayerConflict {
  kind: 'entry-through-symlink' | 'whiteout-through-symlink' | 'cross-layer-hardlink';
  /** The path the upper layer wrote, inside the image ('/'-based byte string); the first of them when several pass one link. */
  path: string;
  upper: number;
  lower: number;
  /** What happened, in words. */
  detail: string;
}

/**
 * A layer of an image: its index in the manifest and its diff ID (the digest of the uncompressed
 * layer, as the image config lists it and `docker inspect` shows under RootFS.Layers), which is
 * the same whether the image is stored as an OCI layout, an archive, gzip or zstd; null when the
 * image has no config (a root file system tar).
 */
export interface LayerName {
  index: number;
  digest: string | null;
}

/**
 * An image's layers as the audit judges its merged root (--image): which layer made each path,
 * and what runtimes disagree on. The image reader's result satisfies it.
 */
export interface ImageLayers {
  layers: readonly LayerName[];
  ambiguities: readonly LayerConflict[];
  /** The layer that last wrote `path` (inside the image); absent or undefined: not known. */
  layerOf?(path: string): number | undefined;
}

/** Everything the rules may look at for one link. Paths are byte strings. */
export interface LinkFacts {
  /** Host path of the link itself. */
  path: string;
  /** The link text exactly as readlink(2) returns it. */
  text: string;
  /** The link's path inside the root ('/'-based). */
  inside: string;
  /** The link's parent directory inside the root ('/'-based). */
  insideDir: string;
  /** A relative text that climbs above the root with '..', read lexically from the link's directory. */
  climbs: boolean;
  /** Host path of the root ('/' when none was given). */
  root: string;
  /** How the link resolves in the jail: the root as '/', '..' clamped there (paths inside the root). */
  jail: Resolution;
  /** How it resolves on the host (host paths). */
  host: Resolution;
  /** The run's preset (null: none). */
  preset?: Preset | null | undefined;
  /** --image: the root is an image's merged root (its container's), not a directory on the host. */
  image?: boolean | undefined;
  /** With --as-user: the reader, and what stops it in the jail view (null: nothing). */
  reader?: { user: string; blocked: Blocked | null } | undefined;
  /** With owner-mismatch on: the owners of the link and of what it resolves to in the jail view (null: it does not resolve). */
  owners?: { link: number; target: number | null; linkName: string; targetName: string } | undefined;
}

/** What a rule's check says about one link: the arguments its `render` turns into words. */
interface Hit<A extends readonly unknown[] = readonly unknown[]> {
  severity?: Severity;
  args: A;
}

interface RuleDocs {
  /** What the rule flags. */
  what: string;
  /** Why it matters. */
  why: string;
  /**
   * A small, complete example that the meta-tests build and audit: the link (its path inside the
   * root) and its text, plus what else exists inside the root (paths ending in '/' are
   * directories, others files; `links` are other links). It must yield exactly this rule once.
   */
  example: {
    root: string;
    link: string;
    text: string;
    exists?: string[];
    links?: Record<string, string>;
    /** The scanned path inside the root, when not the root itself (the paths of `require` are relative to it). */
    scan?: string;
    /** What the example is run with: rules that only a preset or --require switch on. */
    options?: {
      require?: string[];
      preset?: Preset;
      /** Judged as an image's merged root: its layers and what runtimes disagree on in them (see --image). */
      image?: ImageLayers;
      /** Judged as this user (the example is built on a real disk, as root). */
      asUser?: string;
      /** Modes of entries inside the root (paths as in `exists`). */
      modes?: Record<string, number>;
      /** Owners (uids) of entries inside the root. */
      owners?: Record<string, number>;
      rules?: Record<string, 'off' | 'info' | 'warning' | 'error'>;
    };
  };
  /** How --fix deals with it. */
  fix: string;
}

/**
 * A rule is data plus a pure check. `code` is stable and never reused, so a code in a CI log or a
 * suppression keeps meaning the same thing after renames.
 */
export interface Rule<A extends readonly unknown[] = readonly unknown[]> {
  id: string;
  code: string;
  severity: Severity;
  title: string;
  /**
   * What --fix does with this rule's findings, the one field the planner reads (Ruff's fix
   * availability): `rewrite`, a relative text where one resolves to the same place (the rule is
   * listed as fixable); `reason`, nothing, but the planner is asked so the report says why (a
   * loop); `none`, nothing is asked of --fix (a deploy decision, a run-time mount).
   */
  fix: FixAvailability;
  docs: RuleDocs;
  /** For a rule that only an option switches on: that option (it is not counted in the summary otherwise). */
  enabledBy?: '--require' | '--preset deploy' | '--preset rootfs' | '--as-user' | '--rule' | '--image';
  /** The per-link check; absent for a rule judged from options (--require, a preset) in its own methods. */
  check?(facts: LinkFacts): Hit<A> | null;
  /**
   * The message of a finding, from its check's arguments: called only where text is shown.
   * Absent for a rule whose findings carry their words, settled where they are judged
   * (TextFinding: unreadable entries, --require, the presets).
   */
  render?(args: A): string;
}

interface FindingHead {
  rule: string;
  code: string;
  severity: Severity;
}

/**
 * What a per-link rule said about one link, at the level the run's policy gives it, as data: the
 * message's arguments, which the rule renders into words only where text is shown (messageOf in
 * messages.ts). Most findings of a big run are counted or written as JSON, never read.
 */
interface DataFinding extends FindingHead {
  args: readonly unknown[];
  message?: undefined;
}

/**
 * A finding whose words were settled where it was judged: off the per-link path (unreadable
 * entries, --require, the deploy and rootfs presets) or rendered for a caller (withMessage).
 */
export interface TextFinding extends FindingHead {
  message: string;
  args?: undefined;
}

export type Finding = DataFinding | TextFinding;
