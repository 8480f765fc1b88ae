import type { LoadedConfig } from './file.js';
import { UsageError } from '../core/errors.js';
import { findRule, type Level } from '../rules/registry.js';
import type { Preset } from './policy.js';
import { expandRoots, isRootGlob, pathInRoot } from './roots.js';
import type { AuditOptions } from './settings.js';

type FailOn = 'error' | 'warning' | 'info' | 'never';

/** What the command line said; undefined where it said nothing (its defaults are decided here). */
export interface CliChoices {
  paths: string[];
  root?: string | undefined;
  exclude: string[];
  failOn?: FailOn | undefined;
  fixScope?: 'root' | 'tree' | undefined;
  require: string[];
  preset?: Preset | undefined;
  oneFileSystem?: boolean | undefined;
  /** --rule id=level, in order: they win over the config's levels of the same rules. */
  rules?: Record<string, Level> | undefined;
  asUser?: string | undefined;
}

/** One audit: its options (the file system and cwd are the caller's). */
export type RootRun = Omit<AuditOptions, 'fs'>;

export interface RunPlan {
  /** One entry per jail; exactly one unless a root glob or `roots` was used. */
  runs: RootRun[];
  /** Root globs or `roots`: the report takes the many-roots shape even when one root matched. */
  multi: boolean;
  failOn: FailOn;
}

/**
 * The command line over the config over the defaults, in one place. Flags win; lists given on
 * the command line (paths, exclude, require) replace the config's, they do not add to them.
 */
export function planRuns(cli: CliChoices, loaded: LoadedConfig | null, cwd: string): RunPlan {
  const cfg = loaded?.config ?? {};
  const rootSpecs = cli.root !== undefined ? [cli.root] : cfg.roots ?? (cfg.root !== undefined ? [cfg.root] : []);
  const multi = cfg.roots !== undefined && cli.root === undefined ? true : rootSpecs.some(isRootGlob);
  const fromConfig = cli.paths.length === 0;
  const paths = fromConfig ? cfg.paths ?? [] : cli.paths;
  if (paths.length === 0) throw new UsageError("missing required argument 'paths': name a directory to scan (or give paths in the config file)");
  const common: Omit<RootRun, 'paths' | 'root'> = {
    exclude: cli.exclude.length > 0 ? cli.exclude : cfg.exclude ?? [],
    oneFileSystem: cli.oneFileSystem,
    fixScope: cli.fixScope ?? cfg.fixScope ?? 'root',
    rules: mergeLevels(cfg.rules, cli.rules),
    allow: cfg.allow,
    require: cli.require.length > 0 ? cli.require : cfg.require,
    preset: cli.preset ?? cfg.preset,
    asUser: cli.asUser ?? cfg.asUser,
    cwd,
  };
  const failOn = cli.failOn ?? cfg.failOn ?? 'error';
  if (!multi) {
    const root = rootSpecs[0];
    // Paths on the command line are host paths as today; a config's paths are inside the root.
    const p = fromConfig ? paths.map((x) => pathInRoot(root ?? '/', x)) : paths;
    return { runs: [{ ...common, root, paths: p }], multi, failOn };
  }
  const roots = expandRoots(rootSpecs, cwd);
  return { runs: roots.map((root) => ({ ...common, root, paths: paths.map((x) => pathInRoot(root, x)) })), multi, failOn };
}

/**
 * The config's levels with the command line's over them. A flag names a rule by id or code, as the
 * config may too: the config's entry for the same rule under its other name is dropped, so the
 * flag wins whichever name each used.
 */
function mergeLevels(cfg: Record<string, Level> | undefined, cli: Record<string, Level> | undefined): Record<string, Level> | undefined {
  if (cli === undefined || Object.keys(cli).length === 0) return cfg;
  const ids = new Set(Object.keys(cli).map((k) => findRule(k)?.id ?? k));
  const kept = Object.entries(cfg ?? {}).filter(([k]) => !ids.has(findRule(k)?.id ?? k));
  return { ...Object.fromEntries(kept), ...cli };
}
