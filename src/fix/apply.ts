import { toDisplay } from '../core/bytes.js';
import { UsageError } from '../core/errors.js';
import { basename, dirname } from '../core/paths.js';
import { Resolver } from '../resolve/resolver.js';
import { hostOf } from '../core/paths.js';
import type { Settings } from '../config/settings.js';
import type { AppliedChange } from './applied-change.js';
import { type DirGate, gateFor, NOT_ENTERABLE } from './gate.js';
import { Journal, JournalFailed, newRun, type RunInfo } from './journal.js';
import type { PlannedFix } from '../audit/records.js';
import { hostAfterJail } from './plan-link.js';
import { checkLink, FsFault, readLink, rewriteLink } from './rewrite.js';
import { isTempName, tempRunIsOver } from './temp-names.js';


export type { AppliedChange } from './applied-change.js';

export interface ApplyOptions {
  /**
   * Append one JSON line per change here, fsynced before the rename: a file (this call is the
   * whole run: it ends the run's record), or a journal a command over many jails shares (the
   * command ends the run when its last jail is done).
   */
  journal?: string | Journal | undefined;
  /** The run its journal lines name when `journal` is a file; a new one by default. */
  run?: RunInfo | undefined;
  /** Temp links (`.linkcheck-tmp.*`) the scan met: removed when their run is over. */
  leftovers?: readonly string[] | undefined;
}

/** The fixer was asked to stop (SIGINT/SIGTERM): it stopped between two links, leaving nothing half done. */
export class Interrupted extends Error {
  constructor(
    readonly signal: string,
    readonly changes: AppliedChange[],
  ) {
    super(`interrupted by ${signal}: stopped between two links; ${changes.filter((c) => c.status === 'changed').length} changed so far`);
  }
}

/** The journal could not be written: the fixer stopped before the change that line was for. */
export class JournalStopped extends Error {
  constructor(
    readonly failure: JournalFailed,
    readonly path: string,
    readonly changes: AppliedChange[],
  ) {
    const n = changes.filter((c) => c.status === 'changed').length;
    super(`${failure.message}: stopped before changing ${toDisplay(path)}; ${n} link${n === 1 ? '' : 's'} changed before that, each journaled`);
  }
}

/**
 * The fixer stopped at a fatal file-system error, between two links: one line and exit 2, as for
 * any fatal error. Every link holds its old or its new text; the journal names every change made.
 */
class FixStopped extends UsageError {
  constructor(fault: FsFault, path: string, changed: number, journal: boolean) {
    const remedy = fault.code === 'EROFS' ? 'make the file system writable' : fault.code === 'EIO' ? 'check the disk' : 'free some space';
    super(
      `--fix stopped at ${toDisplay(path)}: ${fault.what} it (${fault.code}); ${changed} link${changed === 1 ? '' : 's'} changed before it${journal ? ', each in the journal,' : ''} and nothing half done` +
        (fault.journaled ? ' (the journal\'s last line names this change, which did not happen: undo skips it)' : '') +
        `; ${remedy} and run --fix again`,
    );
  }
}

/**
 * Carries out a plan, one link at a time, never leaving a name missing: re-read the link (skip it
 * if it changed since the scan), make the new link under a temporary name in the same directory
 * with the old one's owner and times, check the old one once more, journal, rename over it,
 * then resolve it afresh in both views and put the old text back the same way if it does not
 * land where planned. Fixes run in the plan's order, so a link that resolves through another
 * planned fix comes after it.
 */
export async function applyFixes(settings: Settings, fixes: readonly PlannedFix[], options: ApplyOptions = {}): Promise<AppliedChange[]> {
  const changes: AppliedChange[] = [];
  let stopSignal: string | null = null;
  const onSignal = (sig: string): void => {
    stopSignal = sig;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const given = options.journal;
  const own = typeof given === 'string' ? new Journal(given, options.run ?? newRun(settings.root)) : null;
  const journal = own ?? (given instanceof Journal ? given.forRoot(settings.root) : null);
  const gate = gateFor(settings.fs);
  try {
    for (const path of options.leftovers ?? []) {
      const c = removeLeftover(gate, path);
      if (c) changes.push(c);
    }
    const pending = new Map(fixes.map((f) => [f.path, f.target]));
    // Directories do not change under a fix (only link texts do, and each change is told to the
    // resolver), so what it learns is kept; the link itself is read back after every rename.
    const confirmer = new Resolver(settings.fs);
    for (let i = 0; i < fixes.length; i++) {
      // Let signal handlers run now and then; stopping happens only here, between two links.
      if (i % 32 === 0) await new Promise((r) => setImmediate(r));
      if (stopSignal) throw new Interrupted(stopSignal, changes);
      const fix = fixes[i]!;
      try {
        changes.push(applyOne(settings, gate, journal, confirmer, pending, fix));
      } catch (err) {
        if (err instanceof JournalFailed) throw new JournalStopped(err, fix.path, changes);
        if (err instanceof FsFault) throw new FixStopped(err, fix.path, changes.filter((c) => c.status === 'changed').length, journal !== null);
        throw err;
      }
      pending.delete(fix.path);
    }
    own?.finish();
  } finally {
    gate.close();
    own?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return changes;
}

function change(fix: PlannedFix, status: AppliedChange['status'], reason: string | null): AppliedChange {
  return { path: fix.path, old: fix.old, new: fix.target, status, reason };
}

/** A link left alone because another process changed it (or a directory on its way) during the run. */
function changedMeanwhile(fix: PlannedFix, reason: string): AppliedChange {
  return { ...change(fix, 'skipped', reason), concurrent: true };
}

function applyOne(
  settings: Settings,
  gate: DirGate,
  journal: Journal | null,
  confirmer: Resolver,
  pending: Map<string, string>,
  fix: PlannedFix,
): AppliedChange {
  const name = basename(fix.path);
  const dir = dirname(fix.path);
  const ops = gate.enter(dir);
  // Every other reason the gate gives is a directory that changed under the run.
  if (typeof ops === 'string') return ops === NOT_ENTERABLE ? change(fix, 'skipped', ops) : changedMeanwhile(fix, ops);
  const found = checkLink(ops, name);
  if (!found.ok) return found.concurrent ? changedMeanwhile(fix, found.reason) : change(fix, 'skipped', found.reason);
  const before = found.stat;
  if (found.text !== fix.old) return changedMeanwhile(fix, 'changed since the scan');

  const swapped = rewriteLink(ops, { name, path: fix.path, expected: fix.old, text: fix.target, ino: before.ino, keep: before, journal });
  if (!swapped.ok) return swapped.concurrent ? changedMeanwhile(fix, swapped.reason) : change(fix, 'skipped', swapped.reason);

  const read = readLink(ops, name);
  const readBack = read.ok ? read.text : null;
  confirmer.prime(dir, name, readBack ?? fix.target);
  const override = (p: string): string | undefined => (p === fix.path ? undefined : pending.get(p));
  const j = confirmer.resolvePath({ rootHost: settings.rootHost }, dir, fix.target, override);
  const h = hostAfterJail(confirmer, j, settings.root, dir, fix.target, override);
  if (readBack === fix.target && j.status === 'ok' && j.resolved === fix.intended && h.status === 'ok' && h.resolved === hostOf(settings.root, fix.intended)) {
    return change(fix, 'changed', null);
  }
  const now = ops.lstat(name);
  const undone = now && now.kind === 'link' ? rewriteLink(ops, { name, path: fix.path, expected: fix.target, text: fix.old, ino: now.ino, keep: before, journal: null }) : null;
  const back = undone === null ? 'the new link vanished' : undone.ok ? null : undone.reason;
  if (back === null) confirmer.prime(dir, name, fix.old);
  const where = `jail: ${j.status}${j.resolved ? ' ' + j.resolved : ''}, host: ${h.status}${h.resolved ? ' ' + h.resolved : ''}`;
  return change(fix, 'failed', back === null ? `did not land on the target after the rename (${where}); the old text was put back` : `did not land on the target (${where}) and the old text could not be put back: ${back}`);
}

/** Removes a stale temp link; another run may be cleaning up at the same time, so losing the race is fine. */
function removeLeftover(gate: DirGate, path: string): AppliedChange | null {
  const name = basename(path);
  if (!isTempName(name) || !tempRunIsOver(name)) return null;
  const ops = gate.enter(dirname(path));
  if (typeof ops === 'string') return null;
  try {
    const st = ops.lstat(name);
    if (!st || st.kind !== 'link') return null;
    const text = ops.readlink(name);
    ops.unlink(name);
    return { path, old: text, new: '', status: 'removed', reason: 'temporary link left by an interrupted run' };
  } catch {
    return null;
  }
}
