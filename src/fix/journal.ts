import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { fromJsonText, toJsonText } from '../bytes.js';
import { UsageError, errnoOf } from '../errors.js';

/** One change as the journal records it. Paths and texts are byte strings in memory. */
export interface JournalEntry {
  path: string;
  old: string;
  new: string;
  uid: number;
  gid: number;
  /** Nanoseconds since the epoch, exact. */
  mtime: bigint;
  atime: bigint;
  /** When the change was made (ISO 8601). */
  time: string;
}

/**
 * An append-only JSON-lines journal. Each entry is written and fsynced before the rename it
 * describes, so after a crash the journal names every change that may have happened. Times are
 * written as exact integers (nanoseconds): more digits than a double holds, so the reader takes
 * them from the text rather than through JSON.parse.
 */
export class Journal {
  private fd: number;

  constructor(readonly file: string) {
    try {
      this.fd = openSync(file, 'a', 0o600);
    } catch (err) {
      throw new UsageError(`cannot open the journal ${file} for appending (${errnoOf(err)}): choose a writable path`);
    }
  }

  append(e: JournalEntry): void {
    const head = JSON.stringify({ path: toJsonText(e.path), old: toJsonText(e.old), new: toJsonText(e.new), uid: e.uid, gid: e.gid });
    const line = `${head.slice(0, -1)},"mtime":${e.mtime},"atime":${e.atime},"time":${JSON.stringify(e.time)}}\n`;
    writeSync(this.fd, line);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export function readJournal(file: string): JournalEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the journal ${file} (${errnoOf(err)})`);
  }
  const out: JournalEntry[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    // A run killed mid-write can leave a torn last line: that change never happened (the entry is
    // written before the rename), so it is ignored.
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      if (i === lines.length - 1 || lines.slice(i + 1).every((l) => l.trim() === '')) return;
      throw new UsageError(`journal ${file} line ${i + 1} is not JSON: is this a linkcheck journal?`);
    }
    const mtime = /"mtime":(\d+)/.exec(line)?.[1];
    const atime = /"atime":(\d+)/.exec(line)?.[1];
    if (typeof o.path !== 'string' || typeof o.old !== 'string' || typeof o.new !== 'string' || typeof o.uid !== 'number' || typeof o.gid !== 'number' || !mtime)
      throw new UsageError(`journal ${file} line ${i + 1} lacks path, old, new, uid, gid or mtime: is this a linkcheck journal?`);
    out.push({
      path: fromJsonText(o.path),
      old: fromJsonText(o.old),
      new: fromJsonText(o.new),
      uid: o.uid,
      gid: o.gid,
      mtime: BigInt(mtime),
      atime: BigInt(atime ?? mtime),
      time: typeof o.time === 'string' ? o.time : '',
    });
  });
  return out;
}
