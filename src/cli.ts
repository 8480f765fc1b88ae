import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { auditInParallel, ReaderGone, type Walked } from './parallel.js';
import { Auditor, type Summary } from './audit.js';
import { UsageError } from './errors.js';
import { applyFixes, Interrupted } from './fix/apply.js';
import type { PlannedFix } from './fix/plan.js';
import { type AppliedChange, plannedChanges } from './fix/change.js';
import { undoJournal } from './fix/undo.js';
import type { FsPort } from './fs-port.js';
import { bufferedWriter } from './report/buffered.js';
import { FORMATS, reporterFor } from './report/formats.js';
import type { ReportContext } from './report/reporter.js';
import { runInfo } from './report/run-info.js';
import { explainRule, listRules } from './report/rules-text.js';
import { type Severity, SEVERITY_RANK } from './rules/index.js';
import { settingsFrom } from './settings.js';

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
export const EXIT = { clean: 0, findings: 1, usage: 2, interrupted: 130 } as const;

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
}

/** Our package.json sits two levels up from dist/src and one from src (tests run the sources). */
function version(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../../package.json', '../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === 'linkcheck' && pkg.version) return pkg.version;
    } catch {
      // try the next place
    }
  }
  return '0.0.0';
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
Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or fatal error.
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
    .option('-q, --quiet', 'print nothing when clean; with --fix print only what changed')
    .option('--fix', 'rewrite fixable links to relative targets (atomic, verified)')
    .option('--dry-run', 'with --fix: print the plan and change nothing')
    .addOption(new Option('--fix-scope <scope>', 'fix links whose target is inside the root, or only inside the scanned tree').choices(['root', 'tree']).default('root'))
    .option('--journal <file>', 'with --fix: append one JSON line per change, for "linkcheck undo"')
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
    .action((journal: string, flags: { dryRun?: boolean }) => {
      code = undoCommand(journal, flags, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof ReaderGone) return code;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.clean;
      return EXIT.usage;
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
  const startedAt = Date.now();
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
  const ctx: ReportContext = { color: colorWanted(flags.color, io.env, io.isTTY), quiet: flags.quiet === true, mode, run: runInfo(version(), startedAt) };

  // Two threads where the report goes to a real file descriptor and the disk is the real one.
  const parallel = flags.jobs === '2' && io.stdoutFd !== undefined && io.fs === undefined;
  const job = {
    options: { paths, root: flags.root, exclude: flags.exclude, oneFileSystem: flags.oneFileSystem, fixScope: flags.fixScope, cwd: io.cwd },
    format: flags.format,
    ctx,
    fd: io.stdoutFd ?? 1,
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
  const out = bufferedWriter(io.stdout);
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

function undoCommand(journal: string, flags: { dryRun?: boolean }, io: CliIo): number {
  const result = undoJournal({ journal, dryRun: flags.dryRun === true, fs: io.fs, cwd: io.cwd });
  io.stdout(result.text);
  return result.failed > 0 ? EXIT.findings : EXIT.clean;
}
