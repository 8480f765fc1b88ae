import { toDisplay } from '../core/bytes.js';
import { type FsPort, nodeFsPort } from '../core/fs-port.js';
import { absoluteFrom, basename, dirname } from '../core/paths.js';
import { type DirOps, gateFor } from './gate.js';
import type { HeldLock } from './lock.js';
import { UsageError } from '../core/errors.js';
import { currentUser, type JournalEntry, LEGACY_RUN, markUndone, readJournal, runsIn } from './journal.js';
import { checkLink, type Found, rewriteLink } from './rewrite.js';

export interface UndoOptions {
  journal: string;
  dryRun?: boolean | undefined;
  /** Only this run's changes. */
  run?: string | undefined;
  /** Only the last run's changes (the run of the journal's last line). */
  last?: boolean | undefined;
  fs?: FsPort | undefined;
  cwd?: string | undefined;
}

export interface UndoResult {
  restored: number;
  skipped: number;
  failed: number;
  /** One line per journal entry, for people. */
  text: string;
}

/** What an undo will go through, read once: the lock is taken for these roots, then exactly these entries are undone. */
export interface UndoPlan {
  file: string;
  /** Newest first. */
  entries: JournalEntry[];
  torn: number;
  /** The roots the entries were fixed under, sorted ('/' for lines that did not record one). */
  roots: string[];
  /** Runs the journal already marks undone: an undo that goes over them again adds no record. */
  undone: string[];
}

function journalPath(options: Pick<UndoOptions, 'journal' | 'cwd'>): string {
  return absoluteFrom(options.cwd ?? process.cwd(), options.journal);
}

/**
 * Reads the journal and picks the entries to undo: all, the last run's, or one run's. The roots
 * to lock are those the entries name and those the chosen runs' begin records list: a run that
 * has begun and not yet journaled a change (its lock held) is waited for, not passed by.
 */
export function planUndo(options: UndoOptions): UndoPlan {
  const file = journalPath(options);
  const { entries, torn, records, lastRun } = readJournal(file);
  let chosen = entries;
  let ids: string[] | null = null;
  if (options.run !== undefined || options.last) {
    const runs = runsIn(entries, records);
    const id = options.run ?? lastRun;
    const run = runs.find((r) => r.id === id);
    if (options.run !== undefined && !run && !records.some((r) => r.run === id)) throw new UsageError(`no run ${options.run} in the journal ${file}: "linkcheck undo ${file} --list" lists its runs`);
    chosen = run?.entries ?? [];
    ids = id === undefined ? [] : [id];
  }
  const begun = records.filter((r) => r.kind === 'begin' && (ids === null || ids.includes(r.run))).flatMap((r) => r.roots ?? []);
  const roots = [...new Set([...chosen.map((e) => e.run?.root || '/'), ...begun])].sort();
  const undone = [...new Set(records.filter((r) => r.kind === 'undone').map((r) => r.run))];
  return { file, entries: [...chosen].reverse(), torn, roots, undone };
}

/**
 * Plans an undo holding the locks of the roots it touches. The roots come from the journal, and
 * a run that held a lock meanwhile may have added lines (or become the last run): so the journal
 * is read again under the locks, and locked again if it now names other roots.
 */
export async function planUndoLocked(options: UndoOptions, lock: (roots: string[]) => Promise<HeldLock>): Promise<{ plan: UndoPlan; lock: HeldLock }> {
  let plan = planUndo(options);
  for (;;) {
    const held = await lock(plan.roots);
    const again = planUndo(options);
    const covered = again.roots.every((r) => plan.roots.includes(r));
    plan = again;
    if (covered) return { plan, lock: held };
    held.release();
  }
}

/**
 * The journal's runs, one a line: id, when it started, how many changes, its state (complete,
 * interrupted, undone; `-` for runs written before runs had records), and where and by whom.
 * A command over many jails is one run: its roots are listed together.
 */
export function listRuns(options: Pick<UndoOptions, 'journal' | 'cwd'>): string {
  const file = journalPath(options);
  const { entries, torn, records } = readJournal(file);
  const rows = [['run', 'started', 'changes', 'state', 'host', 'user', 'version', 'root']];
  for (const r of runsIn(entries, records)) {
    const roots = r.roots.length > 0 ? r.roots.map(toDisplay).join(',') : '-';
    rows.push([r.id, r.first, String(r.entries.length), r.state === 'unknown' ? '-' : r.state, r.host || '-', r.user || '-', r.version || '-', roots]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  let out = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
  if (torn > 0) out += `${tornNote(torn)}\n`;
  return out;
}

function tornNote(n: number): string {
  return `ignored ${n} torn journal line${n === 1 ? '' : 's'}: a write cut short (a killed run, a full disk), so ${n === 1 ? 'its change was' : 'their changes were'} never made`;
}

/**
 * Restores what --fix runs recorded, newest first, with the fixer's own safety: directories
 * reached one name at a time, the old text written under a temporary name with the recorded owner
 * and times and renamed over the link. A link is restored only while it still holds the text the
 * fix gave it; every other entry is named with the reason it was skipped. --dry-run goes through
 * the same checks against the texts the links would have by then (an earlier entry for the same
 * link sees the text a later one would have put back), so its counts are the real undo's.
 */
export function undoJournal(options: UndoOptions, plan: UndoPlan = planUndo(options)): UndoResult {
  const fs = options.fs ?? nodeFsPort();
  const { entries } = plan;
  const gate = gateFor(fs);
  const lines: string[] = [];
  /** --dry-run: the text each link would hold by now. */
  const wouldHold = new Map<string, string>();
  let restored = 0;
  let skipped = 0;
  let failed = 0;
  const skip = (path: string, why: string): void => {
    skipped++;
    lines.push(`skipped ${toDisplay(path)}: ${why}`);
  };
  try {
    for (const e of entries) {
      const name = basename(e.path);
      const ops = gate.enter(dirname(e.path));
      if (typeof ops === 'string') {
        skip(e.path, ops);
        continue;
      }
      const found = options.dryRun && wouldHold.has(e.path) ? checkStat(ops, name, wouldHold.get(e.path)!) : checkLink(ops, name);
      if (!found.ok) {
        skip(e.path, found.reason);
        continue;
      }
      const now = found.text;
      if (now !== e.new) {
        skip(e.path, now === e.old ? 'already holds the old text' : `it no longer holds the fixed text (now ${toDisplay(now)})`);
        continue;
      }
      const shown = `${toDisplay(e.path)}: ${toDisplay(e.new)} -> ${toDisplay(e.old)}`;
      if (options.dryRun) {
        restored++;
        wouldHold.set(e.path, e.old);
        lines.push(`would restore ${shown}`);
        continue;
      }
      const done = rewriteLink(ops, { name, path: e.path, expected: e.new, text: e.old, ino: found.stat.ino, keep: { uid: e.uid, gid: e.gid, atimeNs: e.atime, mtimeNs: e.mtime }, journal: null });
      if (done.ok) {
        restored++;
        lines.push(`restored ${shown}`);
      } else {
        failed++;
        lines.push(`failed ${shown}: ${done.reason}`);
      }
    }
  } finally {
    gate.close();
  }
  const verb = options.dryRun ? 'would restore' : 'restored';
  lines.push(`${verb} ${restored}, skipped ${skipped}${failed ? `, failed ${failed}` : ''} of ${entries.length} journal entries`);
  // A run whose every change is back (or was already) lists as undone from now on.
  if (!options.dryRun && failed === 0) lines.push(...markRuns(plan));
  if (plan.torn > 0) lines.push(tornNote(plan.torn));
  return { restored, skipped, failed, text: lines.join('\n') + '\n' };
}

/** Marks the plan's runs undone in the journal; a line when the journal cannot take the record. */
function markRuns(plan: UndoPlan): string[] {
  const runs = [...new Set(plan.entries.map((e) => e.run?.id ?? LEGACY_RUN))].filter((r) => !plan.undone.includes(r));
  const errno = markUndone(plan.file, runs, currentUser());
  if (!errno) return [];
  const them = runs.length === 1 ? ['the run', 'it'] : ['the runs', 'them'];
  return [`could not mark ${them[0]} undone in the journal (${errno}): undo --list still shows ${them[1]} as before`];
}

/** --dry-run, for a link an earlier entry would have restored: the link as it stands, holding the text it would have by then. */
function checkStat(ops: DirOps, name: string, wouldHold: string): Found {
  const found = checkLink(ops, name);
  return found.ok ? { ...found, text: wouldHold } : found;
}
