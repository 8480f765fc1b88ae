/**
 * A fix as data, shared by the judge (which reports it on a link) and the fixer (which plans and
 * applies it): neither depends on the other for it.
 */

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

/** What planning one link came to: a fix, or why there is none. */
export type PlanOutcome = { fix: PlannedFix; reason: null } | { fix: null; reason: string };

/** A link as the planner needs it. */
export interface LinkToPlan {
  path: string;
  /** Host path of the link's parent directory (a real directory). */
  dir: string;
  name: string;
  text: string;
  /** The link's parent inside the root. */
  insideDir: string;
  inside: string;
}
