import type { Settings } from '../config/settings.js';
import type { Resolver, View } from '../resolve/resolver.js';
import type { LinkFacts } from '../rules/types.js';
import type { LinkRecord, PlannedFix } from './records.js';

/**
 * The port between the auditor and a fix planner, and a fix as data: the auditor reports a fix
 * on a link, the fixer plans and applies it; neither depends on the other for it.
 */

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

/**
 * What the auditor asks of a fix planner (fix/planner.ts), so that judging never depends on how
 * fixes are planned. Without one, links are judged and nothing is planned.
 */
export interface FixPlanning {
  /** The walk met the link `path` (named `name`): its verdict when it was reached ahead of the walk. */
  met(path: string, name: string): LinkRecord | undefined;
  /** The walk is done with `path`. */
  reached(path: string): void;
  /** The verdict on `path` went stale: its fix is no longer planned. */
  drop(path: string, fix: PlannedFix | null): void;
  /** A plan for a link the rules want fixed (null: none is tried). */
  plan(link: LinkToPlan, facts: LinkFacts): PlanOutcome | null;
  /** Planned fixes in an order where every fix comes after those it relies on (empty unless collected). */
  readonly fixes: PlannedFix[];
  /** Temporary links of a fixer run (ours or an interrupted one's) met by the walk. */
  readonly leftovers: string[];
}

/** What a planner may ask of the auditor: the world it judges in, and a verdict on a link. */
export interface AuditorForPlanner {
  readonly settings: Settings;
  /** What plans resolve with; the auditor asks for plans as the caller (--as-user judges, it does not plan). */
  readonly resolver: Resolver;
  readonly jail: View;
  readonly host: View;
  /** Facts, findings and plan for the link at `path` whose text is `text`. */
  evaluate(dir: string, path: string, text: string): LinkRecord;
}
