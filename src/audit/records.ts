import type { Resolution, Status } from '../resolve/resolver.js';
import type { Severity } from '../rules/registry.js';
import type { Finding, LayerName, TextFinding } from '../rules/types.js';
import type { StaleAllow, SuppressedFinding } from '../config/policy.js';

/** What an audit hands out: one record per link or unreadable entry, the checks, the summary. */

export type { Finding };

/** One symlink, as both views see it, with what the rules say and what --fix would do. */
export interface LinkRecord {
  /** Host path of the link (byte string). */
  path: string;
  /** The link text exactly as readlink(2) returns it (byte string). */
  target: string;
  /** The link's own path inside the root. */
  inside: string;
  /**
   * The jail view, under the name the JSON report gives it: this record is the report's shape,
   * written out per link without a copy (the code's word for the view is `jail`).
   */
  chroot: Resolution;
  host: Resolution;
  findings: Finding[];
  fix: PlannedFix | null;
  /** Why a link with findings has no fix. */
  noFix: string | null;
  /** Findings an allow entry set aside, with its reason (present only when there are some). */
  suppressed?: SuppressedFinding[];
  /** --image: the layer that made the link (present only for an image, when known). */
  layer?: LayerName;
}

/** A directory (or link) the walk could not read. */
export interface UnreadableRecord {
  path: string;
  errno: string;
  /** Its words settled here: unreadable entries are few, and their message names the errno. */
  finding: TextFinding;
}

export type AuditEvent = { type: 'link'; link: LinkRecord } | { type: 'unreadable'; entry: UnreadableRecord };

export type { StaleAllow, SuppressedFinding };

/** A failed (or allowed) check on a path the walk did not meet as a link: `current` missing, a required directory. */
export interface CheckRecord {
  /** Host path that was checked. */
  path: string;
  findings: Finding[];
  suppressed: SuppressedFinding[];
}

export type StatusCounts = Record<Status, number>;

export interface Summary {
  links: number;
  entries: number;
  directories: number;
  unreadable: number;
  /** Statuses in the jail view (the JSON name of the view). */
  chroot: StatusCounts;
  host: StatusCounts;
  findings: Record<Severity, number>;
  rules: Record<string, number>;
  /** Links with at least one finding. */
  problems: number;
  /** Links --fix would rewrite. */
  fixable: number;
  /** Findings set aside by allow entries (present when the run has an allow list). */
  suppressed?: number;
  /** Allow entries that matched nothing (present when the run has an allow list). */
  stale?: number;
}

export interface AuditResult {
  schemaVersion: 1;
  root: string;
  scanned: string[];
  links: LinkRecord[];
  unreadable: UnreadableRecord[];
  /** Failed --require / preset checks on paths that are not links (present when there are some). */
  checks?: CheckRecord[];
  /** Allow entries that matched nothing (present when the run has an allow list). */
  stale?: StaleAllow[];
  /** --image (auditImage): the image's layers by diff ID, as the JSON report's header has them. */
  image?: { layers: LayerName[] };
  summary: Summary;
}

/** A fix as data: what the link says now, what it should say, and why. Nothing is written yet. */
export interface PlannedFix {
  /** Host path of the link. */
  path: string;
  /** The text the link had when planned; apply skips the link if it changed since. */
  old: string;
  /** The new, relative, clean text. */
  target: string;
  /** Where the link should lead, inside the root ('/'-based). */
  intended: string;
  /**
   * `safe`: the jail view lands where it did before; `repair`: the jail view was broken (or
   * went elsewhere) and now lands where the host view did (the Capistrano case).
   */
  safety: 'safe' | 'repair';
  why: string;
}
