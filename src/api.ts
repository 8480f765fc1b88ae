import type { AuditEvent, AuditResult, CheckRecord, LinkRecord, StaleAllow, UnreadableRecord } from './audit/records.js';
import { UsageError } from './core/errors.js';
import type { AppliedChange } from './fix/applied-change.js';
import type { FsPort } from './core/fs-port.js';
import type { RunInfo } from './fix/journal.js';
import { lockDirFor, lockRoots } from './fix/lock.js';
import { planUndo, planUndoLocked, undoJournal, type UndoResult } from './fix/undo.js';
import { withMessages } from './rules/messages.js';
import { runPipeline } from './run/pipeline.js';
import { imageLayers, openImage } from './image/open-image.js';
import { resolve as absolute } from 'node:path';
import { changeAsText, checkAsText, linkAsText, unreadableAsText } from './report/as-text.js';
import { toJsonText } from './core/bytes.js';
import { headerJson } from './report/json-shape.js';
import type { Reporter } from './report/reporter.js';
import { type AuditOptions, type Settings, settingsFrom } from './config/settings.js';

/**
 * The library's jobs: audit, fix and undo as calls, each the same pipeline the command line runs
 * (src/run/pipeline.ts), answering the data its JSON report carries.
 */

export interface FixOptions extends AuditOptions {
  /** Plan and report, change nothing (--fix --dry-run). */
  dryRun?: boolean | undefined;
  /** Append one JSON line per change to this file, for undo(). */
  journal?: string | undefined;
  /** The run the journal lines name; a new one by default. */
  run?: RunInfo | undefined;
  /**
   * How long to wait for another fix or undo of the same root, in milliseconds (default 0: throw
   * Busy at once). The lock is taken on the real disk only, as the command line does.
   */
  waitMs?: number | undefined;
}

/** What a fix did: the audit after it (as the JSON report has it) and every change. */
export interface FixResult extends AuditResult {
  /** changed / skipped / failed / removed; `planned` with dryRun. */
  changes: AppliedChange[];
}

/** Audits the given paths: everything the JSON report says, paths as ordinary strings (toBytes gives a name's exact bytes). */
export async function audit(options: AuditOptions): Promise<AuditResult> {
  const settings = settingsFrom(options);
  const collected = collector(settings);
  await runPipeline({ settings, mode: 'audit', report: { reporter: collected.reporter, writer: NO_TEXT } });
  return collected.result;
}

/**
 * Rewrites fixable links to relative targets, as `linkcheck --fix` does (atomic, verified,
 * journaled), then audits again; with `dryRun`, only plans. Throws Busy when another fix or undo
 * holds the root, Interrupted on SIGINT/SIGTERM (between two links), JournalStopped when the
 * journal cannot be written.
 */
export async function fix(options: FixOptions): Promise<FixResult> {
  const settings = settingsFrom(options);
  const dryRun = options.dryRun === true;
  const lock = !dryRun && options.fs === undefined ? await lockRoots([settings.root], { dir: lockDirFor(process.env), waitMs: options.waitMs ?? 0, what: 'fix' }) : null;
  try {
    const collected = collector(settings);
    const { changes } = await runPipeline({
      settings,
      mode: dryRun ? 'dry-run' : 'fix',
      report: { reporter: collected.reporter, writer: NO_TEXT },
      journal: options.journal,
      run: options.run,
    });
    return { ...collected.result, changes: changes.map(changeAsText) };
  } finally {
    lock?.release();
  }
}

/** An image's audit: the audit's options but where the tree is, plus the image. */
export interface ImageAuditOptions extends Omit<AuditOptions, 'paths' | 'root' | 'fs' | 'asUser' | 'image'> {
  /** An OCI layout directory, an OCI or docker-save archive, or a root file system tar. */
  image: string;
  /** Which image, when the input holds several: a name, name:tag, platform or digest (prefix). */
  imageRef?: string | undefined;
  /** Paths inside the image; `/` by default. */
  paths?: string[] | undefined;
}

/**
 * Audits a container image's merged root as its container sees it, without extracting it
 * (--image): the image's root is the jail, each link carries the layer that made it, and
 * layer-ambiguity judges what runtimes merge differently. Throws UsageError for an input that
 * is no image or an invalid layer.
 */
export async function auditImage(options: ImageAuditOptions): Promise<AuditResult> {
  refuseHostOptions(options);
  const { image: path, imageRef, paths, ...rest } = options;
  const tree = await openImage(absolute(options.cwd ?? process.cwd(), path), imageRef === undefined ? {} : { ref: imageRef });
  return audit({ ...rest, paths: paths ?? ['/'], root: '/', cwd: '/', fs: tree.fs, image: imageLayers(tree) });
}

/**
 * What --image refuses, refused here too before anything is read: the type leaves these out,
 * but a JavaScript caller is not stopped by a type, and asUser would ask the host's kernel about
 * the image's paths.
 */
function refuseHostOptions(options: ImageAuditOptions): void {
  const given = options as Partial<Pick<AuditOptions, 'root' | 'fs' | 'asUser'>>;
  if (given.asUser !== undefined) throw new UsageError('asUser asks the kernel, which needs the tree on a disk: unpack the image (umoci unpack) and audit the tree');
  if (given.root !== undefined) throw new UsageError("auditImage judges the image's own root: leave out root (the paths given are inside the image)");
  if (given.fs !== undefined) throw new UsageError('auditImage reads the image itself: leave out fs (the image is read from the disk at its path)');
}

export interface UndoCallOptions {
  /** The journal a fix wrote. */
  journal: string;
  /** Say what would be restored, change nothing. */
  dryRun?: boolean | undefined;
  /** Only this run's changes (see runsIn / readJournal). */
  run?: string | undefined;
  /** Only the last run's changes. */
  last?: boolean | undefined;
  /** Where a relative journal path starts; process.cwd() by default. */
  cwd?: string | undefined;
  /** How long to wait for a fix or undo of the same roots, in milliseconds (default 0). */
  waitMs?: number | undefined;
  /** The file system; the real disk (and its locks) by default. */
  fs?: FsPort | undefined;
  /** Where the locks are (see fix/lock.ts); by default as for the command line. */
  lockDir?: string | undefined;
}

/** Restores what fix runs recorded in a journal, newest first, as `linkcheck undo` does. */
export async function undo(options: UndoCallOptions): Promise<UndoResult> {
  if (options.last && options.run !== undefined) throw new UsageError('--last and --run each choose a run: give one of them');
  const o = { journal: options.journal, dryRun: options.dryRun === true, run: options.run, last: options.last === true, cwd: options.cwd, fs: options.fs };
  const dir = options.lockDir ?? lockDirFor(process.env);
  // The lock guards the real disk; an injected file system is private to this process.
  const { plan, lock } =
    o.dryRun || o.fs !== undefined
      ? { plan: planUndo(o), lock: null }
      : await planUndoLocked(o, (roots) => lockRoots(roots, { dir, waitMs: options.waitMs ?? 0, what: 'undo' }));
  try {
    return undoJournal(o, plan);
  } finally {
    lock?.release();
  }
}

const NO_TEXT = { write(): void {}, flush(): void {} };

/** A report sink that keeps the report as data instead of text: paths as ordinary strings (see report/as-text.ts). */
function collector(settings: Settings): { reporter: Reporter; result: AuditResult } {
  const links: LinkRecord[] = [];
  const unreadable: UnreadableRecord[] = [];
  const checks: CheckRecord[] = [];
  let stale: StaleAllow[] | undefined;
  const result = { schemaVersion: 1, root: toJsonText(settings.root), scanned: settings.scanned.map(toJsonText), links, unreadable } as AuditResult;
  const reporter: Reporter = {
    begin(h) {
      // The image's layers as the JSON report's header gives them.
      const image = headerJson(h).image;
      if (image) result.image = { layers: [...image.layers] };
      return '';
    },
    event(ev: AuditEvent) {
      // Findings are kept as data on the way; a caller reads their words, as the JSON report gives them.
      if (ev.type === 'link') links.push(linkAsText(withMessages(ev.link)));
      else unreadable.push(unreadableAsText(ev.entry));
      return '';
    },
    check(c) {
      checks.push(checkAsText(c));
      return '';
    },
    end(summary, _changes, extras) {
      result.summary = summary;
      if (checks.length > 0) result.checks = checks;
      stale = extras?.stale;
      if (stale) result.stale = stale;
      return '';
    },
  };
  return { reporter, result };
}
