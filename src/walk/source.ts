import { errnoOf } from '../core/errors.js';
import type { DirEntry } from '../core/fs-port.js';
import type { Settings } from '../config/settings.js';
import { walk, type WalkCounts } from './walk.js';

/**
 * One walked entry: [dir, name, path, text] for a link; ['', '', path, errno, 'd' | 'l'] for a
 * directory or link that could not be read. A tuple, not named fields, because it crosses to
 * the audit thread in batches of 512 and tuples serialise faster (docs/performance.md, "Figures behind the code").
 */
export type WalkedEntry = [string, string, string, string] | [string, string, string, string, 'd' | 'l'];

/** What one walk met, kept so a later report can replay it (after --fix) without walking again. */
export interface Walked {
  entries: WalkedEntry[];
  counts: WalkCounts;
}

/**
 * The pipeline's first stage: what the judge is fed, one WalkedEntry per link (its text read) or
 * unreadable entry, in path order, with the walk's totals once it is done. Either a walk of the
 * scanned paths, or the replay of one.
 */
export interface Source {
  entries(): Iterable<WalkedEntry>;
  /** Complete once `entries` has been run through. */
  readonly counts: WalkCounts;
}

/**
 * A walk of every scanned path. `keep` records what it met, for a replay; `onListing` hears each
 * directory listing (the judge's resolver learns from them on the walking thread).
 */
export function walkSource(settings: Settings, how: { keep?: Walked | undefined; onListing?: ((dir: string, entries: readonly DirEntry[]) => void) | undefined } = {}): Source {
  const counts: WalkCounts = { entries: 0, directories: 0 };
  if (how.keep) how.keep.counts = counts;
  const options = { exclude: settings.exclude, oneFileSystem: settings.oneFileSystem, onListing: how.onListing };
  function* entries(): Generator<WalkedEntry> {
    for (const top of settings.scanned) {
      for (const ev of walk(settings.fs, top, options, counts)) {
        let e: WalkedEntry;
        if (ev.type === 'unreadable') e = ['', '', ev.path, ev.errno, 'd'];
        else {
          try {
            e = [ev.dir, ev.name, ev.path, settings.fs.readlink(ev.path)];
          } catch (err) {
            e = ['', '', ev.path, errnoOf(err), 'l'];
          }
        }
        how.keep?.entries.push(e);
        yield e;
      }
    }
  }
  return { entries, counts };
}

/**
 * The links an earlier walk met, each read again: --fix changes link texts, never directories, so
 * the report after a fix walks no directory a second time.
 */
export function replaySource(settings: Settings, walked: Walked): Source {
  const counts: WalkCounts = { ...walked.counts };
  function* entries(): Generator<WalkedEntry> {
    for (const e of walked.entries) {
      if (e[4] !== undefined) {
        yield e;
        continue;
      }
      let text: string;
      try {
        text = settings.fs.readlink(e[2]);
      } catch (err) {
        const code = errnoOf(err);
        if (code === 'ENOENT') {
          counts.entries--; // a temporary link the fixer removed, or gone meanwhile
          continue;
        }
        yield ['', '', e[2], code, 'l'];
        continue;
      }
      yield [e[0], e[1], e[2], text];
    }
  }
  return { entries, counts };
}
