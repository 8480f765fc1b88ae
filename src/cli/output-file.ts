import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, fsyncSync, lstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
// A report file that cannot be written fails as stdout does: an OutputError (ENOSPC, EIO, EFBIG, a directory that vanished...).
import { errnoOf, OutputError } from '../core/errors.js';

/** Writes all of `data` to `fd` (a regular file: a short count only means "go on"), or throws an OutputError. */
function writeAllSync(fd: number, data: Buffer): void {
  while (data.length > 0) {
    let n: number;
    try {
      n = writeSync(fd, data);
    } catch (err) {
      throw new OutputError(errnoOf(err));
    }
    if (n <= 0) throw new OutputError('EIO');
    data = data.subarray(n);
  }
}

/**
 * A report file that appears whole or not at all: it is written to a temporary file in the same
 * directory (so the rename stays on one file system), fsynced, and renamed over `path`; a reader
 * sees the previous file or the new one, never a part. Until `commit`, the previous file is left
 * as it was, and `abandon` (a failed run) removes the temporary file. A symlink at `path` is
 * replaced, never followed: a report written as root must not land where someone else points it.
 * The new file keeps the mode (and, for root, the owner) of the file it replaces.
 *
 * A character device or a pipe at `path` (`--output /dev/null`, `--output /dev/stderr`'s
 * target, a FIFO a collector reads) is written in place: renaming over it would put a regular file
 * where the device was, which as root breaks /dev/null for the whole machine.
 */
export class OutputFile {
  readonly fd: number;
  private readonly tmp: string | null;
  private open = true;

  constructor(readonly path: string) {
    let was: ReturnType<typeof lstatSync>;
    try {
      was = lstatSync(path, { throwIfNoEntry: false });
    } catch (err) {
      throw new OutputError(errnoOf(err));
    }
    if (was?.isCharacterDevice() || was?.isFIFO()) {
      this.tmp = null;
      try {
        this.fd = openSync(path, 'w');
      } catch (err) {
        throw new OutputError(errnoOf(err));
      }
      return;
    }
    const slash = path.lastIndexOf('/');
    const dir = slash <= 0 ? (slash === 0 ? '/' : '.') : path.slice(0, slash);
    this.tmp = `${dir === '/' ? '' : dir}/.${path.slice(slash + 1)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      this.fd = openSync(this.tmp, 'wx', 0o666);
    } catch (err) {
      throw new OutputError(errnoOf(err));
    }
    try {
      if (was?.isFile()) {
        fchmodSync(this.fd, was.mode & 0o7777);
        if (process.geteuid?.() === 0) fchownSync(this.fd, was.uid, was.gid);
      }
    } catch (err) {
      this.abandon();
      throw new OutputError(errnoOf(err));
    }
  }

  /** Appends text (for the report written on this thread). */
  write = (s: string): void => writeAllSync(this.fd, Buffer.from(s, 'utf8'));

  /** fsync, rename over the path, fsync the directory: the report is now the file at `path`. */
  commit(): void {
    if (this.tmp === null) return this.close();
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.open = false;
      renameSync(this.tmp, this.path);
    } catch (err) {
      this.abandon();
      throw new OutputError(errnoOf(err));
    }
    // The rename is durable once the directory is: a crash now leaves the new report, not none.
    try {
      const dfd = openSync(this.tmp.slice(0, this.tmp.lastIndexOf('/')) || '/', 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      // The report is in place; a directory that cannot be fsynced (some network file systems) loses only durability.
    }
  }

  /** A device or pipe written in place: closed, and what was written is gone to its reader. */
  private close(): void {
    this.open = false;
    try {
      closeSync(this.fd);
    } catch (err) {
      throw new OutputError(errnoOf(err));
    }
  }

  /** Removes the temporary file: the previous report stays as it was. */
  abandon(): void {
    if (this.open) {
      this.open = false;
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    if (this.tmp === null) return;
    try {
      unlinkSync(this.tmp);
    } catch {
      // never made, or already gone with its directory
    }
  }
}
