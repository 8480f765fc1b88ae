import { resolve } from 'node:path';
import type { Summary } from '../audit/records.js';
import { fromText } from '../core/bytes.js';
import { absoluteFrom } from '../core/paths.js';
import { colorWanted, EXIT, exitCodeFor, type FailOn } from './exit-codes.js';
import { Interrupted } from '../fix/apply.js';
import { Journal, newRun } from '../fix/journal.js';
import type { FsPort } from '../core/fs-port.js';
import type { OutputFile } from './output-file.js';
import { runPipeline } from '../run/pipeline.js';
import type { Progress } from '../run/progress.js';
import { bufferedWriter } from '../report/buffered.js';
import { reportWidth, scanLabels } from '../report/display-path.js';
import { type Format, reporterFor } from '../report/formats/by-name.js';
import { multiRootReport } from '../report/multi.js';
import { interruptedChanges } from '../report/formats/pretty.js';
import type { ReportContext } from '../report/reporter.js';
import { runInfo } from '../report/run-info.js';
import type { RootRun } from '../config/runs.js';
import type { Settings } from '../config/settings.js';
import { packageVersion as version } from '../core/version.js';

/** What a scan's report needs from where it runs (the CLI's io, see cli.ts). */
export interface ScanIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Record<string, string | undefined>;
  isTTY: boolean;
  cwd: string;
  /** The file system; the real disk when absent. */
  fs?: FsPort;
  /** The file descriptor behind `stdout`, when there is one: lets a second thread write the report. */
  stdoutFd?: number;
  /** The terminal's width when stdout is one. */
  columns?: number;
}

/** The command-line choices a scan's report and fix follow. */
export interface ScanFlags {
  format: Format;
  failOn: FailOn;
  color: boolean;
  quiet?: boolean | undefined;
  fix?: boolean | undefined;
  dryRun?: boolean | undefined;
  journal?: string | undefined;
  jobs: string;
  absolutePaths?: boolean | undefined;
  /** The pretty format's caps (--max-links, --max-changes; --all lifts both); none when absent. */
  all?: boolean | undefined;
  maxLinks?: number | undefined;
  maxChanges?: number | undefined;
  startedAt: number;
}

/** Every jail's audit (and --fix) in turn, into one report; the exit code of the worst. */
export async function auditRoots(
  all: ReadonlyArray<{ options: RootRun; settings: Settings }>,
  multi: boolean,
  flags: ScanFlags,
  io: ScanIo,
  progress: Progress | null,
  output: OutputFile | null,
): Promise<number> {
  // Compact lines carry no jail heading: with many jails they name links by their host paths.
  const run = { ...flags, absolutePaths: flags.absolutePaths === true || (multi && flags.format === 'compact') };
  const write = output ? output.write : io.stdout;
  // One run for the command: every jail's changes under one run id, so undo --last takes them all back.
  const roots = all.map((a) => a.settings.root);
  const journal = flags.journal !== undefined && flags.fix && !flags.dryRun ? new Journal(resolve(io.cwd, flags.journal), newRun(roots[0]!, new Date(), roots)) : null;
  try {
    const code = multi ? await eachRoot(all, run, io, write, journal, progress) : await scanRoot(all[0]!.options, all[0]!.settings, run, io, { write, output, mayUseThreads: true, journal }, progress);
    if (code !== EXIT.interrupted) journal?.finish();
    return code;
  } finally {
    journal?.close();
  }
}

/** Every jail in turn, into one report framed per format. */
async function eachRoot(
  all: ReadonlyArray<{ options: RootRun; settings: Settings }>,
  flags: ScanFlags,
  io: ScanIo,
  write: (s: string) => void,
  journal: Journal | null,
  progress: Progress | null,
): Promise<number> {
  const report = multiRootReport(flags.format, write);
  let worst: number = EXIT.clean;
  for (const { options, settings } of all) {
    // One thread per jail: the jails' reports are written in turn through this thread.
    const section = report.section(settings);
    const code = await scanRoot(options, settings, flags, io, { write: section.write, output: null, mayUseThreads: false, done: section.done, journal }, progress);
    if (code === EXIT.interrupted) return code;
    worst = Math.max(worst, code);
  }
  report.end();
  return worst;
}

interface ReportTo {
  write: (s: string) => void;
  output: OutputFile | null;
  mayUseThreads: boolean;
  done?: ((summary: Summary) => void) | undefined;
  /** --fix --journal: the command's journal, shared by its jails (null: none). */
  journal: Journal | null;
}

/** One jail's audit (and --fix), its report written to `to.write`; returns its exit code. */
async function scanRoot(options: RootRun, settings: Settings, flags: ScanFlags, io: ScanIo, to: ReportTo, progress: Progress | null): Promise<number> {
  const mode: ReportContext['mode'] = !flags.fix ? 'audit' : flags.dryRun ? 'dry-run' : 'fix';
  const ctx = reportContext(options, settings, flags, io, to, mode);
  // Two threads where the report goes to a real file descriptor and the disk is the real one.
  const parallel = to.mayUseThreads && flags.jobs === '2' && (to.output !== null || io.stdoutFd !== undefined) && io.fs === undefined;
  const threads = parallel
    ? {
        options,
        format: flags.format,
        ctx,
        fd: to.output?.fd ?? io.stdoutFd ?? 1,
        // The report and the line share a terminal only when stdout is one too.
        terminal: io.isTTY ? progress?.lock : undefined,
      }
    : null;
  const writer = bufferedWriter((s) => {
    if (io.isTTY && !to.output) progress?.erase();
    to.write(s);
  });
  let result;
  try {
    result = await runPipeline({
      settings,
      mode,
      report: { reporter: reporterFor(flags.format, ctx), writer },
      threads,
      journal: to.journal ?? undefined,
      onJudged: (judged) => {
        if (progress) progress.judged = judged;
      },
      onApply: { before: () => progress?.pause(), after: () => progress?.restart() },
    });
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    // What changed before the stop, with the report's cap: on stdout for the pretty format (the
    // report itself is never written), on stderr for the others, whose stdout is a document or
    // one finding a line.
    const listing = interruptedChanges(err.changes, { ...ctx, color: ctx.color && !to.output });
    if (flags.format === 'pretty' && !to.output) io.stdout(listing);
    else io.stderr(listing);
    io.stderr(`linkcheck: ${err.message}; run linkcheck --fix again to finish\n`);
    return EXIT.interrupted;
  }
  warnUnmatchedExcludes(settings.unmatchedExcludes(), io);
  to.done?.(result.summary);
  const failed = result.changes.some((c) => c.status === 'failed');
  return Math.max(exitCodeFor(result.summary, flags.failOn), failed && mode === 'fix' ? EXIT.findings : EXIT.clean);
}

function reportContext(options: RootRun, settings: Settings, flags: ScanFlags, io: ScanIo, to: ReportTo, mode: ReportContext['mode']): ReportContext {
  const ctx: ReportContext = {
    color: colorWanted(flags.color, io.env, io.isTTY && !to.output),
    quiet: flags.quiet === true,
    mode,
    run: runInfo(version(), flags.startedAt),
    failOn: flags.failOn,
  };
  if (flags.maxLinks !== undefined || flags.maxChanges !== undefined) {
    ctx.limits = flags.all ? { links: Infinity, changes: Infinity } : { links: flags.maxLinks ?? Infinity, changes: flags.maxChanges ?? Infinity };
  }
  if (flags.journal !== undefined && mode === 'fix') ctx.journal = flags.journal;
  if (!flags.absolutePaths) ctx.scanLabels = scanLabels(options.paths, settings.scanned, realIn(settings.fs, io.cwd));
  const width = reportWidth(io.isTTY, io.columns, io.env);
  if (width !== undefined) ctx.width = width;
  return ctx;
}

/** An --exclude that matched nothing excluded nothing: say so, since the user meant something by it. */
function warnUnmatchedExcludes(patterns: readonly string[], io: ScanIo): void {
  for (const p of patterns) {
    const hint = p.startsWith('/')
      ? `patterns are matched against paths relative to the scanned path: write '${p.replace(/^\/+/, '')}'`
      : 'check it for typos (patterns are matched against paths relative to the scanned path, and names alone)';
    io.stderr(`linkcheck: warning: --exclude '${p}' matched nothing; ${hint}\n`);
  }
}

/** An argument's real path as the settings found it, or null. */
function realIn(fs: FsPort, cwdText: string): (arg: string) => string | null {
  const cwd = fromText(cwdText);
  return (arg) => {
    try {
      return fs.realpath(absoluteFrom(cwd, fromText(arg)));
    } catch {
      return null;
    }
  };
}
