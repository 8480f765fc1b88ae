import { toDisplay } from '../bytes.js';
import { type FsPort, nodeFsPort } from '../fs-port.js';
import { basename, dirname } from '../paths.js';
import { gateFor } from './gate.js';
import { readJournal } from './journal.js';
import { readlinkOrNull, swap } from './apply.js';

export interface UndoOptions {
  journal: string;
  dryRun?: boolean | undefined;
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

/**
 * Restores what a --fix run recorded, newest first, with the fixer's own safety: directories
 * reached one name at a time, the old text written under a temporary name with the recorded owner
 * and times and renamed over the link. A link is restored only while it still holds the text the
 * fix gave it; every other entry is named with the reason it was skipped.
 */
export function undoJournal(options: UndoOptions): UndoResult {
  const fs = options.fs ?? nodeFsPort();
  const file = options.journal.startsWith('/') ? options.journal : `${options.cwd ?? process.cwd()}/${options.journal}`;
  const entries = readJournal(file).reverse();
  const gate = gateFor(fs);
  const lines: string[] = [];
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
      const st = ops.lstat(name);
      if (!st) {
        skip(e.path, 'the link no longer exists');
        continue;
      }
      if (st.kind !== 'link') {
        skip(e.path, 'no longer a symlink: never replaced');
        continue;
      }
      const now = readlinkOrNull(ops, name);
      if (now === null) {
        skip(e.path, 'changed while being read: no longer a symlink');
        continue;
      }
      if (now !== e.new) {
        skip(e.path, now === e.old ? 'already holds the old text' : `it no longer holds the fixed text (now ${toDisplay(now)})`);
        continue;
      }
      const shown = `${toDisplay(e.path)}: ${toDisplay(e.new)} -> ${toDisplay(e.old)}`;
      if (options.dryRun) {
        restored++;
        lines.push(`would restore ${shown}`);
        continue;
      }
      const why = swap(ops, name, e.new, e.old, st.ino, { uid: e.uid, gid: e.gid, atimeNs: e.atime, mtimeNs: e.mtime }, null, e.path);
      if (why === null) {
        restored++;
        lines.push(`restored ${shown}`);
      } else {
        failed++;
        lines.push(`failed ${shown}: ${why}`);
      }
    }
  } finally {
    gate.close();
  }
  const verb = options.dryRun ? 'would restore' : 'restored';
  lines.push(`${verb} ${restored}, skipped ${skipped}${failed ? `, failed ${failed}` : ''} of ${entries.length} journal entries`);
  return { restored, skipped, failed, text: lines.join('\n') + '\n' };
}

