import { Command, CommanderError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { auditInParallel, ReaderGone, type Walked } from './parallel.js';
import { Auditor, type Summary } from './audit.js';
import { UsageError } from './errors.js';
import { applyFixes, Interrupted, JournalStopped } from './fix/apply.js';
import { Busy, lockDirFor, lockRoots, waitMs } from './fix/lock.js';
import type { PlannedFix } from './fix/plan.js';
import { type AppliedChange, plannedChanges } from './fix/change.js';
import { listRuns, planUndo, planUndoLocked, undoJournal } from './fix/undo.js';
import type { FsPort } from './fs-port.js';
import { OutputFile, WriteFailed } from './output-file.js';
import { bufferedWriter } from './report/buffered.js';
import { FORMATS, reporterFor } from './report/formats.js';
import type { ReportContext } from './report/reporter.js';
import { explainRule, listRules } from './report/rules-text.js';
import { type Severity, SEVERITY_RANK } from './rules/index.js';
import { settingsFrom } from './settings.js';
import { packageVersion as version } from './version.js';

/** Everything the CLI touches outside itself, so tests can run it in-process. */
export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Record<string, string | undefined>;
  isTTY: boolean;
  cwd: string;
  /** The file system; the real disk when absent. */
  fs?: FsPort;
  /** The file descriptor behind `stdout`, when there is one: lets a second thread write the report. */
  stdoutFd?: number;
}

/** Exit codes: documented in the README and in --help. */
export const EXIT = { clean: 0, findings: 1, usage: 2, busy: 75, interrupted: 130 } as const;

const FAIL_ON = ['error', 'warning', 'info', 'never'] as const;

interface AuditFlags {
  root?: string;
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
  output?: string;
  wait?: string;
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
    .addHelpText(
      'after',
      `
Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or fatal error,
75 busy: another --fix or undo holds the root's lock, 130 stopped by SIGINT/SIGTERM.
The lock is kept in /run/linkcheck for root (LINKCHECK_LOCK_DIR overrides); audits take none.
Run "linkcheck rules" for the rules and "linkcheck explain <rule>" for one rule's documentation.
A scan path named like a command (rules, explain, undo) is written ./undo.`,
    );

  program
    .command('audit', { isDefault: true, hidden: true })
    .argument('<paths...>', 'directories to scan')
    .option('--root <dir>', 'the jail root: the directory a chrooted process sees as / (default: /)')
    .addOption(new Option('--format <format>', 'report format').choices(FORMATS).default('pretty'))
    .addOption(new Option('--fail-on <severity>', 'lowest severity that makes the exit code 1').choices(FAIL_ON).default('error'))
    .option('--exclude <glob>', 'leave out entries matching the glob (repeatable; matched against the path relative to the scanned path, and against the name alone for patterns without /)', collect, [])
    .option('-x, --one-file-system', 'do not descend into directories on other file systems')
    .option('--no-color', 'plain output even on a terminal (NO_COLOR and FORCE_COLOR are honoured too)')
    .option('-q, --quiet', 'print nothing when clean; with --fix print what changed and one line per finding left at or above --fail-on (for cron)')
    .option('--fix', 'rewrite fixable links to relative targets (atomic, verified)')
    .option('--dry-run', 'with --fix: print the plan and change nothing')
    .addOption(new Option('--fix-scope <scope>', 'fix links whose target is inside the root, or only inside the scanned tree').choices(['root', 'tree']).default('root'))
    .option('--journal <file>', 'with --fix: append one JSON line per change, for "linkcheck undo"')
    .option('--output <file>', 'write the report to FILE instead of stdout, whole or not at all (temporary file, fsync, rename)')
    .option('--wait <seconds>', "with --fix: wait up to SECONDS for another --fix or undo of the same root to finish (default 0: exit 75 at once)")
    .option('-j, --jobs <n>', 'threads for an audit: 1, or 2 to walk on one core and resolve on another', String(Math.min(2, availableParallelism())))
    .action(async (paths: string[], flags: AuditFlags) => {
      code = await auditCommand(paths, flags, io);
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

  program
    .command('undo')
    .description('restore the links a --fix run recorded in its journal, newest first')
    .argument('<journal>', 'journal file written by --fix --journal')
    .option('--dry-run', 'say what would be restored and change nothing')
    .option('--last', "only the last run's changes (the run of the journal's last line)")
    .option('--run <id>', "only this run's changes (see --list)")
    .option('--list', 'list the runs in the journal: id, start, changes, host, user, version, root')
    .option('--wait <seconds>', 'wait up to SECONDS for a --fix or undo of the same root to finish (default 0: exit 75 at once)')
    .action(async (journal: string, flags: UndoFlags) => {
      code = await undoCommand(journal, flags, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof ReaderGone) return code;
    if (err instanceof CommanderError) {
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
  return code;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Colour only for a terminal, unless NO_COLOR, FORCE_COLOR or --no-color say otherwise. */
export function colorWanted(flag: boolean, env: CliIo['env'], isTTY: boolean): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY && env.TERM !== 'dumb';
}

/** 1 when any finding is at or above `failOn`. */
export function exitCodeFor(summary: Summary, failOn: AuditFlags['failOn']): number {
  if (failOn === 'never') return EXIT.clean;
  const min = SEVERITY_RANK[failOn];
  for (const s of Object.keys(summary.findings) as Severity[]) if (SEVERITY_RANK[s] >= min && summary.findings[s] > 0) return EXIT.findings;
  return EXIT.clean;
}

async function auditCommand(paths: string[], flags: AuditFlags, io: CliIo): Promise<number> {
  if (flags.wait !== undefined && (!flags.fix || flags.dryRun)) throw new UsageError('--wait goes with --fix: only a run that changes links takes the lock');
  const wait = waitMs(flags.wait);
  if (flags.output === '') throw new UsageError('--output needs a file name');
  // The lock guards the real disk; an injected file system is private to this process.
  const lock = flags.fix && !flags.dryRun && io.fs === undefined ? await lockRoots([settingsFrom({ paths, root: flags.root, cwd: io.cwd }).root], { dir: lockDirFor(io.env), waitMs: wait, what: 'fix' }) : null;
  let output: OutputFile | null = null;
  try {
    if (flags.output !== undefined) {
      const path = flags.output.startsWith('/') ? flags.output : `${io.cwd}/${flags.output}`;
      try {
        output = new OutputFile(path);
      } catch (err) {
        throw new UsageError(`cannot write the report to ${path} (${(err as WriteFailed).code}): choose a writable path`);
      }
    }
    const code = await auditRun(paths, flags, io, output);
    // An interrupted --fix wrote no report: the previous file stays.
    if (code === EXIT.interrupted) output?.abandon();
    else output?.commit();
    return code;
  } catch (err) {
    output?.abandon();
    if (err instanceof WriteFailed && output) throw new UsageError(`cannot write the report to ${output.path} (${err.code}); the previous file there is left as it was`);
    if (!(err instanceof JournalStopped)) throw err;
    io.stderr(`linkcheck: ${err.message}; free the journal's disk (or fix its path) and run again\n`);
    return EXIT.usage;
  } finally {
    lock?.release();
  }
}

async function auditRun(paths: string[], flags: AuditFlags, io: CliIo, output: OutputFile | null): Promise<number> {
  if (flags.dryRun && !flags.fix) throw new UsageError('--dry-run goes with --fix: add --fix to see the plan');
  if (flags.journal !== undefined && !flags.fix) throw new UsageError('--journal goes with --fix');
  if (flags.journal !== undefined && flags.dryRun) throw new UsageError('--journal records changes; --dry-run makes none: use one of them');
  if (flags.jobs !== '1' && flags.jobs !== '2') throw new UsageError(`--jobs takes 1 or 2, not "${flags.jobs}"`);
  const settings = settingsFrom({
    paths,
    root: flags.root,
    exclude: flags.exclude,
    oneFileSystem: flags.oneFileSystem,
    fixScope: flags.fixScope,
    fs: io.fs,
    cwd: io.cwd,
  });
  const mode: ReportContext['mode'] = !flags.fix ? 'audit' : flags.dryRun ? 'dry-run' : 'fix';
  const ctx: ReportContext = { color: colorWanted(flags.color, io.env, io.isTTY && !output), quiet: flags.quiet === true, mode, failOn: flags.failOn };

  // Two threads where the report goes to a real file descriptor and the disk is the real one.
  const parallel = flags.jobs === '2' && (output !== null || io.stdoutFd !== undefined) && io.fs === undefined;
  const job = {
    options: { paths, root: flags.root, exclude: flags.exclude, oneFileSystem: flags.oneFileSystem, fixScope: flags.fixScope, cwd: io.cwd },
    format: flags.format,
    ctx,
    fd: output?.fd ?? io.stdoutFd ?? 1,
  };
  let changes: AppliedChange[] = [];
  // After --fix the report replays the planning walk's links, each read again: the fixer
  // changes link texts only, so walking every directory a second time would learn nothing.
  const walked: Walked = { entries: [], counts: { entries: 0, directories: 0 } };
  if (mode === 'fix') {
    let fixes: PlannedFix[];
    let leftovers: string[];
    if (parallel) ({ fixes, leftovers } = await auditInParallel(settings, { ...job, report: false, collectFixes: true, changes: [] }, { keep: walked }));
    else {
      const planner = new Auditor(settings);
      for (const _ of planner.events());
      ({ fixes, leftovers } = planner);
    }
    try {
      changes = await applyFixes(settings, fixes, { journal: flags.journal, leftovers });
    } catch (err) {
      if (!(err instanceof Interrupted)) throw err;
      io.stderr(`linkcheck: ${err.message}; run linkcheck --fix again to finish\n`);
      return EXIT.interrupted;
    }
  }
  const failed = changes.some((c) => c.status === 'failed');
  const codeFor = (summary: Summary): number => Math.max(exitCodeFor(summary, flags.failOn), failed ? EXIT.findings : EXIT.clean);
  if (parallel) {
    const { summary } = await auditInParallel(settings, { ...job, report: true, collectFixes: mode === 'dry-run', changes }, mode === 'fix' ? { replay: walked } : {});
    return codeFor(summary);
  }
  const out = bufferedWriter(output ? output.write : io.stdout);
  const auditor = new Auditor(settings, { collectFixes: mode === 'dry-run' });
  const reporter = reporterFor(flags.format, ctx);
  const head = { root: settings.root, scanned: settings.scanned };
  out.write(reporter.begin(head));
  for (const ev of auditor.events()) out.write(reporter.event(ev));
  if (mode === 'dry-run') changes = plannedChanges(auditor.fixes);
  out.write(reporter.end(auditor.summary, changes));
  out.flush();
  return codeFor(auditor.summary);
}

async function undoCommand(journal: string, flags: UndoFlags, io: CliIo): Promise<number> {
  if (flags.list) {
    if (flags.last || flags.run !== undefined || flags.dryRun || flags.wait !== undefined) throw new UsageError('--list only lists the runs: give it no other option');
    io.stdout(listRuns({ journal, cwd: io.cwd }));
    return EXIT.clean;
  }
  if (flags.last && flags.run !== undefined) throw new UsageError('--last and --run each choose a run: give one of them');
  if (flags.wait !== undefined && flags.dryRun) throw new UsageError('--wait goes with a real undo: --dry-run takes no lock');
  const wait = waitMs(flags.wait);
  const options = { journal, dryRun: flags.dryRun === true, run: flags.run, last: flags.last === true, fs: io.fs, cwd: io.cwd };
  const { plan, lock } =
    flags.dryRun || io.fs !== undefined
      ? { plan: planUndo(options), lock: null }
      : await planUndoLocked(options, (roots) => lockRoots(roots, { dir: lockDirFor(io.env), waitMs: wait, what: 'undo' }));
  try {
    const result = undoJournal(options, plan);
    io.stdout(result.text);
    return result.failed > 0 ? EXIT.findings : EXIT.clean;
  } finally {
    lock?.release();
  }
}
