import { afterRootPrefix, components, isAbsolute, isWithin, normalise, relative } from '../core/paths.js';
import type { Resolution, Resolver, TextOverride, View } from '../resolve/resolver.js';
import { hostOf } from '../core/paths.js';
import { NOT_ENTERABLE } from './gate.js';
import type { LinkToPlan, PlanOutcome } from '../audit/fix-planning.js';
import type { PlannedFix } from '../audit/records.js';


/** What the planner needs to know about the world; the auditor provides it. */
export interface PlanContext {
  resolver: Resolver;
  jail: View;
  host: View;
  /** Host path of the root ('/' for none). */
  root: string;
  /** Where intended targets must lie (host paths): the root, or the scanned paths with --fix-scope tree. */
  scope: readonly string[];
  /** The text of a link that the rest of the plan will give it, so resolution sees the fixed tree. */
  override: TextOverride;
  /** Whether the fixer can reach a directory to write in it (see fix/gate.ts); all when absent. */
  enterable?: ((hostDir: string) => boolean) | undefined;
}


/**
 * Plans one link. The intended target is the jail view's answer when it resolves; else, for a
 * text that starts with the root's host path, the host view's answer when that lies inside the
 * root; else there is nothing safe to aim at. The new text keeps the links the old text went
 * through (current/public, not releases/2007.../public) when both views still land on the
 * target through them, and otherwise takes the physical path; either way it is checked in both
 * views, through the rest of the plan, before it is accepted.
 */
export function planLink(ctx: PlanContext, link: LinkToPlan, now: { jail: Resolution; host: Resolution }): PlanOutcome {
  const { jail, host, root } = ctx;
  if (ctx.enterable && !ctx.enterable(link.dir)) return { fix: null, reason: NOT_ENTERABLE };
  const j = afterPlan(ctx, jail, link, now.jail);
  let intended: string;
  let safety: PlannedFix['safety'];
  const prefixed = afterRootPrefix(link.text, root);
  if (j.status === 'ok') {
    intended = j.resolved;
    safety = now.jail.status === 'ok' && now.jail.resolved === intended ? 'safe' : 'repair';
  } else {
    const h = afterPlan(ctx, host, link, now.host);
    if (prefixed !== null && h.status === 'ok' && isWithin(h.resolved, root)) {
      intended = root === '/' ? h.resolved : h.resolved.slice(root.length) || '/';
      safety = 'repair';
    } else return { fix: null, reason: unplannable(j, h, prefixed !== null, root) };
  }
  const intendedHost = hostOf(root, intended);
  if (!ctx.scope.some((s) => isWithin(intendedHost, s))) return { fix: null, reason: 'its target is outside the fix scope (--fix-scope tree)' };
  const physical = relative(link.insideDir, intended);
  for (const candidate of candidates(link, physical, prefixed)) {
    // The physical path lands by construction: `intended` is where a walk ended, so every
    // component of it is a real directory (the last may be a file), and relative() climbs from
    // the link's real directory no higher than their common ancestor inside the root. Walking
    // it again in either view steps through those same directories, follows no link (so no
    // planned text can change it) and ends there: it needs no second walk. Other routes do.
    const lands = candidate === physical || landsOn(ctx, link, candidate, intended, intendedHost);
    // The text it has already: nothing to do if it lands in both views, else try the next route.
    if (candidate === link.text) {
      if (lands) return { fix: null, reason: 'already relative and clean' };
      continue;
    }
    if (lands) {
      return {
        fix: { path: link.path, old: link.text, target: candidate, intended, safety, why: whyText(link.text, safety, j.status === 'ok') },
        reason: null,
      };
    }
  }
  return { fix: null, reason: 'no relative text lands on the same target in both views' };
}

/**
 * How the link will resolve in `view` once the rest of the plan is carried out, given how it
 * resolves on disk now: the same walk, unless a link it followed (after itself) is planned to
 * change. Asking the plan about those links in walk order is what walking again would do.
 */
function afterPlan(ctx: PlanContext, view: View, link: LinkToPlan, now: Resolution): Resolution {
  const hops = now.hops;
  for (let i = 1; i < hops.length; i++) {
    const h = hops[i]!;
    // A loop's hops repeat (the same objects): each link needs asking once.
    if (i > 2 && hops.lastIndexOf(h, i - 1) >= 0) continue;
    const t = ctx.override(view.rootHost + h.path, h.text);
    if (t !== undefined && t !== h.text) return ctx.resolver.resolveLink(view, link.dir, link.name, link.text, ctx.override);
  }
  return now;
}

/** The texts worth trying, best first: the old text's own route, then the physical path. */
function candidates(link: LinkToPlan, physical: string, prefixed: string[] | null): string[] {
  const comps = prefixed ?? components(link.text);
  const fromDir = isAbsolute(link.text) ? [] : link.insideDir === '/' ? [] : link.insideDir.slice(1).split('/');
  // Folding 'x/..' by text is wrong when x is a link (the kernel goes to the parent of where x
  // points); such a route simply fails the check in landsOn and the physical path is used.
  const route = relative(link.insideDir, normaliseClamped([...fromDir, ...comps]));
  return route === physical ? [route] : [route, physical];
}

/** The jail reads '..' above the root as the root itself. */
function normaliseClamped(comps: string[]): string {
  const n = normalise(comps);
  while (n[0] === '..') n.shift();
  return '/' + n.join('/');
}

function landsOn(ctx: PlanContext, link: LinkToPlan, text: string, intended: string, intendedHost: string): boolean {
  const j = ctx.resolver.resolvePath(ctx.jail, link.dir, text, ctx.override);
  if (j.status !== 'ok' || j.resolved !== intended) return false;
  const h = hostAfterJail(ctx.resolver, j, ctx.root, link.dir, text, ctx.override);
  return h.status === 'ok' && h.resolved === intendedHost;
}

/**
 * The host view of a planned text resolved from the real directory `dir`, given its jail view.
 * A planned text is relative and never climbs above the root (relative() from inside it), so
 * when the jail walk followed no link the host walk steps through the same real directories and
 * lands on the same entry (see hostFromJail): it is derived, not walked again.
 */
export function hostAfterJail(resolver: Resolver, jail: Resolution, root: string, dir: string, text: string, override: TextOverride): Resolution {
  if (jail.status === 'ok' && jail.hops.length === 0) return { ...jail, resolved: hostOf(root, jail.resolved) };
  return resolver.resolvePath({ rootHost: '' }, dir, text, override);
}

function unplannable(j: Resolution, h: Resolution, prefixed: boolean, root: string): string {
  if (j.status === 'loop') return root === '/' ? 'it loops' : 'it loops in the jail';
  if (h.status !== 'ok') return 'dangling in both views';
  if (!isWithin(h.resolved, root)) return 'its target is outside the root';
  if (!prefixed) return 'it dangles in the jail and its text is not a host path into the root';
  return 'no safe target';
}

/**
 * `byJail`: the target is where the jail view lands (once the rest of the plan is carried out),
 * not where a host path led; a repair then is a jail-style text (`/var/www/rails/current/public`)
 * whose way goes through a link the plan fixes.
 */
function whyText(old: string, safety: PlannedFix['safety'], byJail: boolean): string {
  if (safety === 'repair' && !byJail) return 'host path into the root: made relative so it resolves in the jail too';
  if (safety === 'repair')
    return `${isAbsolute(old) ? 'absolute' : 'not clean'}: made relative; in the jail it reaches its target once the links on its way are fixed`;
  if (isAbsolute(old)) return 'absolute: made relative so it resolves the same in the jail and on the host';
  return 'made relative and clean, staying inside the root';
}
