import { DEFAULT_CONFIG, type LoadedConfig, loadConfig, loadDefaultConfig } from '../config/file.js';
import { absoluteFrom } from '../core/paths.js';
import { OutputError, UsageError } from '../core/errors.js';
import { EXIT } from './exit-codes.js';
import { JournalStopped } from '../fix/apply.js';
import { lockDirFor, lockRoots } from '../fix/lock.js';
import { nodeFsPort } from '../core/fs-port.js';
import { OutputFile } from './output-file.js';
import type { Progress } from '../run/progress.js';
import { type CliChoices, planRuns } from '../config/runs.js';
import { type ScanFlags, type ScanIo, auditRoots } from './audit-roots.js';
import { settingsFrom } from '../config/settings.js';
import { imageLayers, openImage } from '../image/open-image.js';

/**
 * The command line's audit as one job: the config read, the runs planned, each jail's settings
 * made, then the audit (and --fix) under the fix lock, into stdout or --output. The CLI checks
 * its arguments and hands them here; everything that reads or writes happens in this module.
 */

export interface AuditJobIo extends ScanIo {
  /** The config read when none is named (tests point it elsewhere); /etc/linkcheck/config.json by default. */
  defaultConfig?: string | undefined;
}

export interface AuditJob {
  /** What the command line chose; undefined where it left the choice to the config. */
  choices: CliChoices;
  /** --config's file (relative to the working directory), false for --no-config, undefined for the default one. */
  config: string | false | undefined;
  /** How to report and whether to fix; the fail-on severity comes from the choices and the config. */
  flags: Omit<ScanFlags, 'failOn'>;
  /** --output's file, whole or not at all; stdout when undefined. */
  output?: string | undefined;
  /** How long --fix waits for another fix or undo of the same roots, in milliseconds. */
  waitMs: number;
  /** --image (and --image-ref): judge this image's merged root instead of a tree on the disk. */
  image?: { path: string; ref?: string | undefined } | undefined;
}

/** Runs the job and returns its exit code; throws UsageError or Busy for the one line the CLI prints. */
export async function auditJob(job: AuditJob, io: AuditJobIo, progress: Progress | null): Promise<number> {
  if (job.image) return imageJob(job, job.image, io, progress);
  const plan = planRuns(job.choices, readConfig(job.config, io), io.cwd);
  // Every jail's settings first: a bad one stops the run before any report or change.
  const fs = progress ? progress.meter(io.fs ?? nodeFsPort()) : io.fs;
  const all = plan.runs.map((options) => ({ options, settings: settingsFrom({ ...options, fs }) }));
  // The lock guards the real disk; an injected file system is private to this process.
  const locked = job.flags.fix === true && job.flags.dryRun !== true && io.fs === undefined;
  const lock = locked ? await lockRoots(all.map((a) => a.settings.root), { dir: lockDirFor(io.env), waitMs: job.waitMs, what: 'fix' }) : null;
  try {
    const flags = { ...job.flags, failOn: plan.failOn };
    return await intoOutput(job.output, io, (output) => auditRoots(all, plan.multi, flags, io, progress, output));
  } finally {
    lock?.release();
  }
}

/**
 * An image's audit: its merged root read in place (src/image) is the tree and the jail, on one
 * thread (the port lives in this process). The paths given are inside the image (default /);
 * the config's rules, allow entries and checks apply, its roots, paths and reader (a host's) do not.
 */
async function imageJob(job: AuditJob, given: NonNullable<AuditJob['image']>, io: AuditJobIo, progress: Progress | null): Promise<number> {
  const path = absoluteFrom(io.cwd, given.path);
  const image = await openImage(path, given.ref === undefined ? {} : { ref: given.ref });
  const loaded = readConfig(job.config, io);
  // A host's config: its jails, paths and reader are not the image's.
  const config = loaded && { ...loaded, config: { ...loaded.config, root: undefined, roots: undefined, paths: undefined, asUser: undefined } };
  const paths = job.choices.paths.length > 0 ? job.choices.paths : ['/'];
  const plan = planRuns({ ...job.choices, paths, root: '/' }, config, '/');
  const fs = progress ? progress.meter(image.fs) : image.fs;
  const all = plan.runs.map((options) => ({ options, settings: settingsFrom({ ...options, fs, image: imageLayers(image) }) }));
  const flags = { ...job.flags, failOn: plan.failOn, jobs: '1' };
  return intoOutput(job.output, io, (output) => auditRoots(all, false, flags, { ...io, fs, cwd: '/' }, progress, output));
}

/** The config file: the named one, none, or the default one if it exists. */
function readConfig(config: string | false | undefined, io: AuditJobIo): LoadedConfig | null {
  if (config === false) return null;
  if (config === undefined) return loadDefaultConfig(io.defaultConfig ?? DEFAULT_CONFIG);
  return loadConfig(absoluteFrom(io.cwd, config));
}

/** Runs `scan` into --output whole or not at all (an interrupted --fix leaves the previous file), or into stdout. */
async function intoOutput(file: string | undefined, io: AuditJobIo, scan: (output: OutputFile | null) => Promise<number>): Promise<number> {
  let output: OutputFile | null = null;
  try {
    output = file === undefined ? null : openOutput(file, io.cwd);
    const code = await scan(output);
    if (code === EXIT.interrupted) output?.abandon();
    else output?.commit();
    return code;
  } catch (err) {
    output?.abandon();
    if (err instanceof OutputError && output) throw new UsageError(`cannot write the report to ${output.path} (${err.errno}); the previous file there is left as it was`);
    if (!(err instanceof JournalStopped)) throw err;
    io.stderr(`linkcheck: ${err.message}; free the journal's disk (or fix its path) and run again\n`);
    return EXIT.usage;
  }
}

function openOutput(file: string, cwd: string): OutputFile {
  const path = absoluteFrom(cwd, file);
  try {
    return new OutputFile(path);
  } catch (err) {
    throw new UsageError(`cannot write the report to ${path} (${(err as OutputError).errno}): choose a writable path`);
  }
}
