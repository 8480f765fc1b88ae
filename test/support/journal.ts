import * as fs from 'node:fs';
import { readJournal } from '../../src/fix/journal.js';

/** One change a journal records, with its run's id ('' for lines written before runs). */
export interface JournalChange {
  path: string;
  old: string;
  new: string;
  run: string;
}

/**
 * A journal's changes, oldest first, as undo reads them: whole lines only (a torn tail is no
 * change), a run's begin and end records left out. None when the file is not there yet.
 */
export function journalChanges(file: string): JournalChange[] {
  if (!fs.existsSync(file)) return [];
  return readJournal(file).entries.map((e) => ({ path: e.path, old: e.old, new: e.new, run: e.run?.id ?? '' }));
}
