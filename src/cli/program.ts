import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { errnoOf, OutputError, UsageError } from '../core/errors.js';
import { Busy, lockDirFor, waitMs } from '../fix/lock.js';
import { listRuns } from '../fix/undo.js';
import { undo } from '../api.js';
import { packageVersion as version } from '../core/version.js';
import { nodeFsPort } from '../core/fs-port.js';
import { FORMATS } from '../report/formats/by-name.js';
import { explainRule, listRules } from '../report/rules-text.js';
import { DEFAULT_LIMITS } from '../report/limits.js';
import { DEFAULT_CONFIG } from '../config/file.js';
import { PRESETS, type Preset } from '../config/policy.js';
import { findRule, LEVELS, type Level } from '../rules/registry.js';
import type { CliChoices } from '../config/runs.js';
import { afterHelp, RESERVED, scanHelp } from './help.js';
import { commandLike } from './suggest.js';
import { Progress, progressDelay, progressWanted } from '../run/progress.js';
import { fromText, toDisplay } from '../core/bytes.js';
import { absoluteFrom } from '../core/paths.js';
import { EXIT, FAIL_ON } from './exit-codes.js';
import { type AuditJobIo, auditJob } from './audit-job.js';

/** Everything the CLI touches outside itself, so tests can run it in-process. */
export interface CliIo extends AuditJobIo {
  /** Whether stderr is a terminal (progress is drawn there only then), and its width. */
  stderrIsTTY?: boolean;
  stderrColumns?: number;
}

export { EXIT } from './exit-codes.js';

interface AuditFlags {
  root?: string;
  /** A file, or false for --no-config. */
  config?: string | false;
  require: string[];
  preset?: Preset;
  format: (typeof FORMATS)[number];
  failOn: (typeof FAIL_ON)[number];
  exclude: string[];
  oneFileSystem?: boolean;
  color: boolean;
  quiet?: boolean;
  fix?: boolean;
  dryRun?: boolean;
  fixScope: 'root' | 'tree';
  journal?: string;
  jobs: string;
  absolutePaths?: boolean;
  all?: boolean;
  maxLinks: number;
  maxChanges: number;
  output?: string;
  wait?: string;
  asUser?: string;
  image?: string;
  imageRef?: string;
  /** --rule, by the rule's name as given. */
  rule: Record<string, Level>;
}

interface UndoFlags {
  dryRun?: boolean;
  last?: boolean;
  run?: string;
  list?: boolean;
  wait?: string;
}

/** Runs linkcheck with `argv` (without node and script) and returns the exit code. Never exits the process. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.clean;
  const program = commandLine(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    return failureCode(err, io);
  }
  return code;
}

/** The command line: the audit (the default command), rules, explain and undo; an action hands its exit code to `done`. */
function commandLine(io: CliIo, done: (code: number) => void): Command {
  const program = new Command('linkcheck');
  program
    .description('Audit and repair symlinks as a chroot jail (and the host) sees them.')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(`linkcheck: ${s.replace(/^error: /, '').trimEnd()}\n`),
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', afterHelp());
  const scan = auditCommandLine(program).action(async (paths: string[], flags: AuditFlags, cmd: Command) => {
    if (paths[0] !== undefined) mistypedCommand(paths[0], io);
    const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
    done(await auditCommand(paths, flags, io, given));
  });
  program
    .command('rules')
    .description('list the rules')
    .action(() => {
      io.stdout(listRules());
    });
  program
    .command('explain')
    .description("print one rule's documentation")
    .argument('<rule>', 'rule id (absolute) or code (LC001)')
    .action((key: string) => {
      io.stdout(explainRule(key));
    });
  undoCommandLine(program).action(async (journal: string, flags: UndoFlags) => {
    done(await undoCommand(journal, flags, io));
  });
  scanHelp(program, scan);
  return program;
}

function auditCommandLine(program: Command): Command {
  return program
    .command('audit', { isDefault: true, hidden: true })
    .argument('[paths...]', 'directories to scan')
    .option('--root <dir>', 'the jail root: the directory a chrooted process sees as / (default: /); a glob (\'/srv/jails/*\') audits each matching directory as its own jail, the paths then inside each', oneRoot)
    .addOption(new Option('--format <format>', 'report format').choices(FORMATS).default('pretty'))
    .addOption(new Option('--fail-on <severity>', 'lowest severity that makes the exit code 1').choices(FAIL_ON).default('error'))
    .option('--exclude <glob>', 'leave out entries matching the glob (repeatable; matched against the path relative to the scanned path, and against the name alone for patterns without /)', collect, [])
    .option('-x, --one-file-system', 'do not descend into directories on other file systems')
    .option('--no-color', 'plain output even on a terminal (NO_COLOR and FORCE_COLOR are honoured too)')
    .option('-q, --quiet', 'print only what is at or above --fail-on, and nothing when the exit code is 0; with --fix also what changed (for cron)')
    .option('--fix', 'rewrite fixable links to relative targets (atomic, verified)')
    .option('--dry-run', 'with --fix: print the plan and change nothing')
    .addOption(new Option('--fix-scope <scope>', 'fix links whose target is inside the root, or only inside the scanned tree').choices(['root', 'tree']).default('root'))
    .option('--journal <file>', 'with --fix: append one JSON line per change, for "linkcheck undo"')
    .option('--output <file>', 'write the report to FILE instead of stdout, whole or not at all (temporary file, fsync, rename)')
    .option('--wait <seconds>', 'with --fix: wait up to SECONDS for another --fix or undo of the same root to finish (default 0: exit 75 at once)')
    .option('-j, --jobs <n>', 'threads for an audit: 1, or 2 to walk on one core and resolve on another', String(Math.min(2, availableParallelism())))
    .option('--config <file>', `read settings from a JSON config file (default: ${DEFAULT_CONFIG} when it exists); flags win`)
    .option('--no-config', 'read no config file, not even the default one')
    .option('--require <path[=glob]>', 'a path (relative to the scanned path) that must resolve in the jail, and whose target matches the glob (repeatable; current=releases/*)', collect, [])
    .addOption(new Option('--preset <name>', 'checks for a layout: deploy (releases/ shared/ current), rootfs (run-time mounts) or sysroot (read on the host too)').choices(PRESETS))
    .option('--as-user <user>', "judge as the service's user would resolve (a name, uid or uid:gid; needs root for another user): directories it cannot search fail, no-access says which")
    .option('--rule <rule=level>', 'set a rule\'s level: off, info, warning or error, by id or code (repeatable; wins over the config): --rule owner-mismatch=error', ruleLevel, {})
    .option('--image <path>', 'judge a container image as its container sees it, without extracting it: an OCI layout directory, an OCI or docker-save archive, or a root file system tar (the paths are then inside the image, default /)')
    .option('--image-ref <ref>', 'with --image: which image, when the input holds several (a name, name:tag, platform or digest)')
    .option('--absolute-paths', 'pretty and compact formats: name links by their host paths, not relative to the scanned path')
    .option('--max-links <n>', `pretty format: problem links listed per rule before one line counts the rest`, count, DEFAULT_LIMITS.links)
    .option('--max-changes <n>', `pretty format: changes listed before one line says where the rest are (the journal has them all)`, count, DEFAULT_LIMITS.changes)
    .option('--all', 'pretty format: list every problem link and every change (lifts --max-links and --max-changes)');
}

function undoCommandLine(program: Command): Command {
  return program
    .command('undo')
    .description('restore the links a --fix run recorded in its journal, newest first')
    .argument('<journal>', 'journal file written by --fix --journal')
    .option('--dry-run', 'say what would be restored and change nothing')
    .option('--last', "only the last run's changes (the run of the journal's last change; a --fix over many jails is one run)")
    .option('--run <id>', "only this run's changes (see --list)")
    .option('--list', 'list the runs in the journal: id, start, changes, state (complete, interrupted, undone), host, user, version, roots')
    .option('--wait <seconds>', 'wait up to SECONDS for a --fix or undo of the same root to finish (default 0: exit 75 at once)');
}

/** The exit code for what stopped a command, after its one line on stderr; anything else is a bug and goes on up. */
function failureCode(err: unknown, io: CliIo): number {
  if (err instanceof OutputError) {
    io.stderr(`linkcheck: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof CommanderError) {
    // Commander has already printed the help, the version or its own one-line error.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.clean;
    return EXIT.usage;
  }
  if (err instanceof Busy) {
    io.stderr(`linkcheck: ${err.message}: nothing changed; run again later, or wait for it with --wait SECONDS\n`);
    return EXIT.busy;
  }
  if (err instanceof UsageError) {
    io.stderr(`linkcheck: ${err.message}\n`);
    return EXIT.usage;
  }
  throw err;
}

/**
 * A first word that names no existing path but is one slip away from a command (`explian`) is a
 * mistyped command, not a missing directory: say so. A directory of that name is scanned as usual.
 */
function mistypedCommand(word: string, io: CliIo): void {
  const meant = commandLike(word, RESERVED);
  if (meant === null) return;
  const fs = io.fs ?? nodeFsPort();
  try {
    fs.lstat(absoluteFrom(fromText(io.cwd), fromText(word)));
    return;
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') return;
    throw new UsageError(`unknown command "${toDisplay(fromText(word))}": did you mean ${meant}? (no path of that name exists either)`);
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A cap: a whole number, 0 or more. */
function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('Give a whole number, 0 or more (--all lifts the cap)');
  return Number(value);
}

/** --rule id=level: a known rule and level, checked here so a typo is one line, not a quiet no-op. */
function ruleLevel(value: string, previous: Record<string, Level>): Record<string, Level> {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  const level = eq < 0 ? '' : value.slice(eq + 1);
  if (eq < 0 || key === '') throw new InvalidArgumentError('Give a rule and a level: --rule owner-mismatch=error');
  const rule = findRule(key);
  if (!rule) throw new InvalidArgumentError(`Unknown rule "${key}": run "linkcheck rules" for the list`);
  if (!(LEVELS as readonly string[]).includes(level)) throw new InvalidArgumentError(`Unknown level "${level}": use off, info, warning or error`);
  if (rule.id === 'unreadable' && level === 'off') throw new InvalidArgumentError('unreadable cannot be off (a subtree nobody checked must show); leave the directory out with --exclude instead');
  return { ...previous, [key]: level as Level };
}

/** --root once, and not empty: a second one or an unset variable must not pass silently. */
function oneRoot(value: string, previous: string | undefined): string {
  if (previous !== undefined) throw new InvalidArgumentError('It is given twice: give one root (a glob such as /srv/jails/* for many)');
  if (value === '') throw new InvalidArgumentError('It is empty: name the jail root directory (an unset variable?)');
  return value;
}

/** An audit: the arguments checked, then the job (config, runs, lock, report; see audit-job.ts). */
async function auditCommand(paths: string[], flags: AuditFlags, io: CliIo, given: (option: string) => boolean): Promise<number> {
  checkFixFlags(flags);
  checkImageFlags(flags);
  if (flags.config === '') throw new UsageError('--config is empty: name the config file');
  if (flags.output === '') throw new UsageError('--output needs a file name');
  const wish = { stderrIsTTY: io.stderrIsTTY === true, env: io.env, quiet: flags.quiet === true, format: flags.format };
  const progress = progressWanted(wish) ? new Progress(io.stderr, { columns: io.stderrColumns, delay: progressDelay(io.env) }) : null;
  if (flags.journal !== undefined && flags.dryRun) io.stderr(`linkcheck: --dry-run: the journal ${flags.journal} was not touched (the real run appends its changes there)\n`);
  const job = {
    choices: cliChoices(paths, flags, given),
    config: flags.config,
    flags: { ...flags, startedAt: Date.now() },
    output: flags.output,
    waitMs: waitMs(flags.wait),
    image: flags.image === undefined ? undefined : { path: flags.image, ref: flags.imageRef },
  };
  try {
    return await auditJob(job, io, progress);
  } finally {
    progress?.erase();
  }
}

/** Flags that only make sense with --fix, and --jobs: checked before anything is read. */
function checkFixFlags(flags: AuditFlags): void {
  if (flags.dryRun && !flags.fix) throw new UsageError('--dry-run goes with --fix: add --fix to see the plan');
  if (flags.journal !== undefined && !flags.fix) throw new UsageError('--journal goes with --fix');
  // --dry-run previews any --fix command as written: --journal and --wait are taken and left unused.
  if (flags.wait !== undefined && !flags.fix) throw new UsageError('--wait goes with --fix: only a run that changes links takes the lock');
  if (flags.jobs !== '1' && flags.jobs !== '2') throw new UsageError(`--jobs takes 1 or 2, not "${flags.jobs}"`);
}

/** --image reads an image in place: what needs a tree on a disk, or a jail of its own, is refused before anything is read. */
function checkImageFlags(flags: AuditFlags): void {
  if (flags.imageRef !== undefined && flags.image === undefined) throw new UsageError('--image-ref goes with --image: it picks one image of several');
  if (flags.image === undefined) return;
  if (flags.image === '') throw new UsageError('--image is empty: name the image (an OCI layout directory, an archive or a root file system tar)');
  if (flags.root !== undefined) throw new UsageError("--image judges the image's own root: leave out --root (the paths given are inside the image)");
  if (flags.fix && !flags.dryRun)
    throw new UsageError('--fix cannot change an image: an image is changed by building it again; --fix --dry-run prints the relative texts to write in the Dockerfile');
  if (flags.asUser !== undefined) throw new UsageError('--as-user asks the kernel, which needs the tree on a disk: unpack the image (umoci unpack) and judge the tree');
}

/** What the command line chose; a default it did not override (failOn, fixScope) is left for the config to set. */
function cliChoices(paths: string[], flags: AuditFlags, given: (option: string) => boolean): CliChoices {
  return {
    paths,
    root: flags.root,
    exclude: flags.exclude,
    failOn: given('failOn') ? flags.failOn : undefined,
    fixScope: given('fixScope') ? flags.fixScope : undefined,
    require: flags.require,
    preset: flags.preset,
    oneFileSystem: flags.oneFileSystem,
    rules: flags.rule,
    asUser: flags.asUser,
  };
}

async function undoCommand(journal: string, flags: UndoFlags, io: CliIo): Promise<number> {
  if (flags.list) {
    if (flags.last || flags.run !== undefined || flags.dryRun || flags.wait !== undefined) throw new UsageError('--list only lists the runs: give it no other option');
    io.stdout(listRuns({ journal, cwd: io.cwd }));
    return EXIT.clean;
  }
  if (flags.last && flags.run !== undefined) throw new UsageError('--last and --run each choose a run: give one of them');
  if (flags.wait !== undefined && flags.dryRun) throw new UsageError('--wait goes with a real undo: --dry-run takes no lock');
  const result = await undo({ journal, dryRun: flags.dryRun === true, run: flags.run, last: flags.last === true, fs: io.fs, cwd: io.cwd, waitMs: waitMs(flags.wait), lockDir: lockDirFor(io.env) });
  io.stdout(result.text);
  return result.failed > 0 ? EXIT.findings : EXIT.clean;
}
