import { isWithin } from '../core/paths.js';
import { CompiledPolicy, type StaleAllow, type SuppressedFinding } from '../config/policy.js';
import type { Resolution, Resolver, View } from '../resolve/resolver.js';
import { deployLayout } from '../rules/deploy-layout.js';
import { findRule } from '../rules/registry.js';
import { requirement } from '../rules/requirement.js';
import { runtimeMount } from '../rules/runtime-mount.js';
import { layerAmbiguity } from '../rules/layer-ambiguity.js';
import type { Finding, LinkFacts } from '../rules/types.js';
import type { CheckRecord } from './records.js';
import type { Settings } from '../config/settings.js';

/** A check on one path, judged from how the jail resolves it. */
interface PathCheck {
  /** The scanned path it belongs to (host) and the path relative to it, as given. */
  top: string;
  relative: string;
  judge(r: Resolution): Finding | null;
}

/**
 * Everything beyond the per-link rules, in one place: presets, --require, rule levels and allow
 * entries. The auditor hands it each link's rule findings; what comes back is what counts, what
 * was set aside (with the reason) and whether a fix is wanted.
 */
export class Judge {
  readonly policy: CompiledPolicy;
  private readonly checks = new Map<string, PathCheck[]>();
  private readonly met = new Set<string>();

  constructor(private readonly settings: Settings) {
    this.policy = new CompiledPolicy(settings.policy);
    const { policy, rootHost } = settings;
    for (const top of settings.scanned) {
      const inside = top.slice(rootHost.length) || '/';
      const add = (rel: string, judge: PathCheck['judge'], host = (top === '/' ? '' : top) + '/' + rel): void => {
        const list = this.checks.get(host) ?? [];
        list.push({ top, relative: rel, judge });
        this.checks.set(host, list);
      };
      for (const req of policy.requirements) add(req.path, (r) => requirement.checkPath(req, inside, r));
      if (policy.preset === 'deploy') add('current', (r) => deployLayout.checkCurrent(settings.fs, settings.root, inside, r));
      // An image's conflicts sit on paths, links or not: on a link they join its findings.
      const image = settings.image;
      for (const c of image?.ambiguities ?? []) {
        const host = rootHost + c.path;
        if (!isWithin(host, top)) continue;
        const rel = host === top ? '.' : host.slice(top === '/' ? 1 : top.length + 1);
        if (rel !== '.' && excluded(settings.exclude, rel)) continue;
        add(rel, () => layerAmbiguity.checkPath(c, image!.layers), host);
      }
    }
  }

  /** The scanned path a walked path lies in. */
  topOf(path: string): string {
    for (const top of this.settings.scanned) if (isWithin(path, top)) return top;
    return this.settings.scanned[0] ?? '/';
  }

  /** `path` relative to its scanned path, as allow globs see it. */
  relativeOf(path: string): string {
    const top = this.topOf(path);
    return path === top ? '.' : path.slice(top === '/' ? 1 : top.length + 1);
  }

  /**
   * The findings of one link that count, those allowed away, and whether to plan a fix.
   * `record: false` asks without counting allow entries as used (a second look at the same link).
   */
  judge(facts: LinkFacts, raw: Finding[], record = true): { findings: Finding[]; suppressed: SuppressedFinding[]; wantsFix: boolean } {
    const { policy, rootHost, fs } = this.settings;
    let all = raw;
    if (policy.preset === 'rootfs' || policy.preset === 'sysroot') {
      const mount = runtimeMount.checkLink(facts);
      if (mount !== null) all = [mount];
    }
    if (policy.preset === 'deploy') {
      const top = this.topOf(facts.path);
      if (facts.path !== (top === '/' ? '' : top) + '/current') all = [...all, ...deployLayout.checkLink(fs, facts, top.slice(rootHost.length) || '/')];
    }
    for (const c of this.checks.get(facts.path) ?? []) {
      const f = c.judge(facts.jail);
      if (f !== null) all = [...all, f];
    }
    const { findings, suppressed } = this.settle(all, facts.path, record);
    // An absolute link at info (root '/', where it resolves) is a note: --fix leaves it unless
    // the config raised the rule. Any fix would make its text relative, so another note on it
    // (non-canonical: //usr/bin/x) does not ask for one either.
    const note = findings.some((f) => f.rule === 'absolute' && f.severity === 'info');
    const wantsFix = findings.some((f) => findRule(f.rule)?.fix !== 'none' && (note ? f.severity !== 'info' : true));
    return { findings, suppressed, wantsFix };
  }

  /** Levels, then allow entries, for the link (or checked path) at the host path `path`. */
  private settle(all: Finding[], path: string, record = true): { findings: Finding[]; suppressed: SuppressedFinding[] } {
    const leveled: Finding[] = [];
    for (const f of all) {
      const l = this.policy.level(f);
      if (l !== null) leveled.push(l);
    }
    return this.policy.allow(leveled, { relative: () => this.relativeOf(path), inside: () => path.slice(this.settings.rootHost.length) || '/' }, record);
  }

  /** The walk reported the link at `path`: its checks are done. */
  reported(path: string): void {
    if (this.checks.has(path)) this.met.add(path);
  }

  /** Checks on paths that were not met as links, judged now. */
  closing(resolver: Resolver, jail: View): CheckRecord[] {
    const out: CheckRecord[] = [];
    for (const [path, checks] of this.checks) {
      if (this.met.has(path)) continue;
      const all: Finding[] = [];
      for (const c of checks) {
        const f = c.judge(resolver.resolvePath(jail, c.top, c.relative));
        if (f !== null) all.push(f);
      }
      const { findings, suppressed } = this.settle(all, path);
      if (findings.length > 0 || suppressed.length > 0) out.push({ path, findings, suppressed });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  stale(): StaleAllow[] {
    return this.policy.stale(this.settings.scanned.map((s) => s.slice(this.settings.rootHost.length) || '/'));
  }
}

/**
 * Whether --exclude leaves out `rel` (relative to its scanned path): the walk never enters an
 * excluded directory, so a path under one is out too. Its own kind is not known here: excluded
 * as either counts.
 */
function excluded(exclude: Settings['exclude'], rel: string): boolean {
  if (!exclude) return false;
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) if (exclude(parts.slice(0, i).join('/'), true)) return true;
  return exclude(rel, false) || exclude(rel, true);
}
