import type { LoadedConfig } from './file.js';
import { UsageError } from '../core/errors.js';
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
    rules: cfg.rules,
    allow: cfg.allow,
    require: cli.require.length > 0 ? cli.require : cfg.require,
    preset: cli.preset ?? cfg.preset,
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
