import picomatch from 'picomatch';
import { toJsonText } from '../core/bytes.js';
import { UsageError } from '../core/errors.js';
import { findRule, LEVELS, type Level, type Rule, rules, type Severity } from '../rules/registry.js';
import { messageOf } from '../rules/messages.js';
import type { Finding, Preset } from '../rules/types.js';

/** One exception: findings of `rules` on links whose path (relative to the scanned path) matches `path`. */
export interface AllowEntry {
  path: string;
  rules: string[];
  reason: string;
}

export type { Preset };
export const PRESETS = ['deploy', 'rootfs', 'sysroot'] as const satisfies readonly Preset[];

/** What a caller may say about how findings are judged; plain data (it crosses to the audit thread). */
export interface PolicyOptions {
  /** Level per rule id or code: off, info, warning or error. */
  rules?: Record<string, Level> | undefined;
  allow?: AllowEntry[] | undefined;
  /** `path` or `path=glob`, the path relative to each scanned path. */
  require?: string[] | undefined;
  preset?: Preset | undefined;
}

export interface Requirement {
  /** As given: `current=releases/*`. */
  spec: string;
  path: string;
  glob: string | null;
  matches: (relative: string) => boolean;
}

interface CompiledAllow extends AllowEntry {
  /** Position in the allow list (0-based), so a stale entry can be found in the config. */
  index: number;
  ruleIds: ReadonlySet<string>;
  /** A path that starts with '/' is the link's path inside the root, whatever was scanned. */
  inRoot: boolean;
  matches: (path: string) => boolean;
}

/** The frozen form of PolicyOptions. */
export interface Policy {
  /** Rule id -> level, for rules the caller set. */
  readonly levels: ReadonlyMap<string, Level>;
  readonly allow: readonly CompiledAllow[];
  readonly requirements: readonly Requirement[];
  readonly preset: Preset | null;
}

/** Rule ids from ids or codes; a name that is no rule is a usage error. */
function ruleIdOf(key: string, where: string): string {
  const r = findRule(key);
  if (!r) throw new UsageError(`${where}: unknown rule "${key}": run "linkcheck rules" for the list`);
  return r.id;
}

const glob = (pattern: string): ((s: string) => boolean) => picomatch(pattern, { dot: true });

export function compilePolicy(options: PolicyOptions): Policy {
  const levels = new Map<string, Level>();
  for (const [key, level] of Object.entries(options.rules ?? {})) {
    if (!(LEVELS as readonly string[]).includes(level)) throw new UsageError(`rules.${key}: unknown level "${String(level)}": use off, info, warning or error`);
    const id = ruleIdOf(key, `rules.${key}`);
    if (id === 'unreadable' && level === 'off') throw new UsageError(`rules.${key}: unreadable cannot be off (a subtree nobody checked must show); leave the directory out with exclude instead`);
    levels.set(id, level);
  }
  const allow = (options.allow ?? []).map((a, index): CompiledAllow => {
    const where = `allow[${index}]`;
    if (typeof a.path !== 'string' || a.path.trim() === '') throw new UsageError(`${where}.path: give a glob of the paths it allows`);
    if (typeof a.reason !== 'string' || a.reason.trim() === '') throw new UsageError(`${where}.reason: say why these findings are acceptable`);
    if (!Array.isArray(a.rules) || a.rules.length === 0) throw new UsageError(`${where}.rules: name the rules it allows`);
    const ruleIds = new Set(a.rules.map((r) => ruleIdOf(r, `${where}.rules`)));
    if (ruleIds.has('unreadable')) throw new UsageError(`${where}.rules: unreadable cannot be allowed (a subtree nobody checked must show); leave the directory out with exclude instead`);
    return { ...a, index, ruleIds, inRoot: a.path.startsWith('/'), matches: glob(a.path) };
  });
  const requirements = (options.require ?? []).map(requirementOf);
  const preset = options.preset ?? null;
  if (preset !== null && !(PRESETS as readonly string[]).includes(preset)) throw new UsageError(`unknown preset "${String(preset)}": use deploy, rootfs or sysroot`);
  return Object.freeze({ levels, allow: Object.freeze(allow), requirements: Object.freeze(requirements), preset });
}

/** `path` or `path=glob`; the path is relative to the scanned path. */
export function requirementOf(spec: string): Requirement {
  const eq = spec.indexOf('=');
  const path = (eq < 0 ? spec : spec.slice(0, eq)).replace(/\/+$/, '');
  const pattern = eq < 0 ? null : spec.slice(eq + 1);
  if (path === '' || path.startsWith('/'))
    throw new UsageError(`--require "${spec}": give a path relative to the scanned path, optionally =<glob> (current=releases/*)`);
  if (pattern !== null && pattern.trim() === '') throw new UsageError(`--require "${spec}": the glob after = is empty`);
  return { spec, path, glob: pattern, matches: pattern === null ? () => true : glob(pattern) };
}

/** A finding that an allow entry set aside: not counted, shown with the entry's reason. */
export interface SuppressedFinding {
  rule: string;
  code: string;
  severity: Severity;
  message: string;
  reason: string;
  /** Index of the allow entry in the list. */
  allow: number;
}

/** An allow entry that matched no finding in the whole run: the list should lose it. */
export interface StaleAllow {
  index: number;
  path: string;
  rules: string[];
  reason: string;
  message: string;
}

/**
 * Applies levels and allow entries to the findings of one link, counting which entries were used
 * so the ones that never matched can be reported as stale at the end.
 */
export class CompiledPolicy {
  private readonly used: Set<number> = new Set();
  constructor(readonly policy: Policy) {}

  /** The finding with the configured level, or null when its rule is off. */
  level<F extends Finding>(f: F): F | null {
    const level = this.policy.levels.get(f.rule);
    if (level === undefined) return f;
    if (level === 'off') return null;
    return level === f.severity ? f : { ...f, severity: level };
  }

  /**
   * Splits findings into those that count and those an allow entry sets aside (`record`: the
   * entry counts as used). An entry's path is matched against the link's path relative to the
   * scanned path, or, starting with '/', against its path inside the root.
   */
  allow<F extends Finding>(findings: F[], where: { relative: () => string; inside: () => string }, record = true): { findings: F[]; suppressed: SuppressedFinding[] } {
    if (this.policy.allow.length === 0 || findings.length === 0) return { findings, suppressed: [] };
    let rel: string | undefined;
    let inside: string | undefined;
    const matches = (e: CompiledAllow): boolean => e.matches(e.inRoot ? (inside ??= toJsonText(where.inside())) : (rel ??= toJsonText(where.relative())));
    const kept: F[] = [];
    const suppressed: SuppressedFinding[] = [];
    for (const f of findings) {
      const a = this.policy.allow.find((e) => e.ruleIds.has(f.rule) && matches(e));
      if (a === undefined) kept.push(f);
      else {
        if (record) this.used.add(a.index);
        suppressed.push({ rule: f.rule, code: f.code, severity: f.severity, message: messageOf(f), reason: a.reason, allow: a.index });
      }
    }
    return { findings: kept, suppressed };
  }

  /** Entries that set nothing aside, each saying what it was matched against. Meaningful once the run is over. */
  stale(scannedInside: readonly string[]): StaleAllow[] {
    return this.policy.allow
      .filter((a) => !this.used.has(a.index))
      .map((a) => ({
        index: a.index,
        path: a.path,
        rules: [...a.rules],
        reason: a.reason,
        message: a.inRoot
          ? `allow entry #${a.index + 1} (${a.path}: ${a.rules.join(', ')}) matched no finding inside the root; remove it so the list does not hide a future problem`
          : `allow entry #${a.index + 1} (${a.path}: ${a.rules.join(', ')}) matched no finding below the scanned ${scannedInside.length === 1 ? `path ${toJsonText(scannedInside[0]!)}` : `paths ${scannedInside.map(toJsonText).join(', ')}`}; if it names links elsewhere, write it from the root (starting with /); else remove it so the list does not hide a future problem`,
      }));
  }

  /** Rule ids the audit should count in its summary: the always-on rules and those this run switches on. */
  static countedRules(policy: Policy, asUser: boolean): string[] {
    return rules.filter((r) => CompiledPolicy.enabled(r, policy, asUser)).map((r) => r.id);
  }

  /** Whether a rule judges in this run: always, or when its option is given (a preset, --require, --as-user, a level). */
  static enabled(r: Rule, policy: Policy, asUser: boolean): boolean {
    switch (r.enabledBy) {
      case undefined:
        return true;
      case '--require':
        return policy.requirements.length > 0;
      case '--as-user':
        return asUser;
      case '--rule': {
        const level = policy.levels.get(r.id);
        return level !== undefined && level !== 'off';
      }
      case '--preset rootfs':
        // A sysroot is a root file system too: its links into /proc and /dev are the same.
        return policy.preset === 'rootfs' || policy.preset === 'sysroot';
      default:
        return r.enabledBy === `--preset ${policy.preset ?? ''}`;
    }
  }
}
