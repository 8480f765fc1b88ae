import type { LinkRecord, PlannedFix } from '../audit/records.js';
import { dirname, isWithin } from '../core/paths.js';
import type { AuditorForPlanner, FixPlanning, LinkToPlan, PlanOutcome } from '../audit/fix-planning.js';
import type { LinkFacts } from '../rules/types.js';
import { canEnter } from './gate.js';
import { type PlanContext, planLink } from './plan-link.js';
import { isTempName } from './temp-names.js';

/**
 * The fix plan of one run, built as the walk goes: the planned fixes, the links evaluated ahead
 * of the walk (another link resolved through them), the fix scope and which directories the
 * fixer can enter. It answers resolution's question "what will this link say once the plan is
 * carried out?", which is what makes the plan a fixpoint in one pass.
 */
class FixPlanner implements FixPlanning {
  /** Planned fixes in an order where every fix comes after those it relies on (unless not collected). */
  readonly fixes: PlannedFix[] = [];
  /** Temporary links of a fixer run (ours or an interrupted one's) met by the walk. */
  readonly leftovers: string[] = [];
  /**
   * The new text of every link planned for a fix so far. A walked link that is not here keeps
   * its text; links are walked in path order, so `walkedUpTo` tells walked from not yet walked.
   */
  private readonly planned = new Map<string, string>();
  private walkedUpTo = '';
  private readonly pending = new Set<string>();
  private planContext: PlanContext | undefined;
  private lastEnterable: [string, boolean] = ['', true];
  private readonly override = (hostPath: string, diskText: string): string | undefined => this.plannedText(hostPath, diskText);
  /** Links evaluated before the walk reached them. */
  private readonly early = new Map<string, LinkRecord>();

  /** `collectFixes: false` keeps no list of fixes (an audit that will not apply them). */
  constructor(
    private readonly judge: AuditorForPlanner,
    private readonly collectFixes: boolean,
  ) {}

  /** The walk met the link `path` (named `name`): its verdict when it was reached ahead of the walk. */
  met(path: string, name: string): LinkRecord | undefined {
    if (isTempName(name)) this.leftovers.push(path);
    const early = this.early.get(path);
    if (early !== undefined) this.early.delete(path);
    return early;
  }

  /** The walk is done with `path`: links up to it keep the text it read unless planned. */
  reached(path: string): void {
    this.walkedUpTo = path;
  }

  /** The verdict on `path` went stale (the tree changed under it): its fix is no longer planned. */
  drop(path: string, fix: PlannedFix | null): void {
    const at = fix ? this.fixes.lastIndexOf(fix) : -1;
    if (at >= 0) this.fixes.splice(at, 1);
    this.planned.delete(path);
  }

  /** Plans a link the judge wants fixed; null for the fixer's own temporary links. */
  plan(link: LinkToPlan, facts: LinkFacts): PlanOutcome | null {
    if (isTempName(link.name)) return null;
    if (this.pending.has(link.path)) return { fix: null, reason: 'it resolves through itself' };
    this.pending.add(link.path);
    const outcome = planLink(this.context(), link, facts);
    this.pending.delete(link.path);
    if (outcome.fix) this.planned.set(link.path, outcome.fix.target);
    if (outcome.fix && this.collectFixes) this.fixes.push(outcome.fix);
    return outcome;
  }

  private context(): PlanContext {
    const { settings, resolver, jail, host } = this.judge;
    this.planContext ??= {
      resolver,
      jail,
      host,
      root: settings.root,
      scope: settings.fixScope === 'tree' ? settings.scanned : [settings.root],
      override: this.override,
      enterable: (dir) => {
        // Links come by directory: most ask about the same one as the link before.
        if (dir !== this.lastEnterable[0]) this.lastEnterable = [dir, canEnter(settings.fs, dir)];
        return this.lastEnterable[1];
      },
    };
    return this.planContext;
  }

  /**
   * The text a link will have once the plan is carried out, for links the plan may touch. A link
   * met here before the walk reaches it is evaluated (and planned) now; one being planned higher
   * up the stack counts as unchanged.
   */
  private plannedText(hostPath: string, text: string): string | undefined {
    if (this.pending.has(hostPath)) return undefined;
    const known = this.planned.get(hostPath);
    if (known !== undefined) return known;
    if (hostPath <= this.walkedUpTo) return undefined;
    const early = this.early.get(hostPath);
    if (early !== undefined) return early.fix?.target;
    if (!this.inScope(hostPath)) return undefined;
    const rec = this.judge.evaluate(dirname(hostPath), hostPath, text);
    this.early.set(hostPath, rec);
    return rec.fix?.target;
  }

  /** Whether a link belongs to what this run scans (and so may be fixed by it). */
  private inScope(hostPath: string): boolean {
    const s = this.judge.settings;
    for (const top of s.scanned) {
      if (hostPath === top && s.scannedLinks.includes(top)) return true;
      if (!isWithin(hostPath, top) || hostPath === top) continue;
      if (!s.exclude) return true;
      const rel = hostPath.slice(top === '/' ? 1 : top.length + 1);
      const parts = rel.split('/');
      for (let i = 1; i <= parts.length; i++) if (s.exclude(parts.slice(0, i).join('/'), i < parts.length)) return false;
      return true;
    }
    return false;
  }
}

/** The planner an auditor is built with (`new Auditor(settings, fixPlanner())`); `collectFixes: false` keeps no list of fixes. */
export function fixPlanner(collectFixes = true): (auditor: AuditorForPlanner) => FixPlanning {
  return (auditor) => new FixPlanner(auditor, collectFixes);
}
