import { groupName, userName } from '../core/accounts.js';
import type { FsPort } from '../core/fs-port.js';
import { hostOf } from '../core/paths.js';
import type { Credentials, ReaderGate } from '../resolve/reader.js';
import type { Resolution, Resolver } from '../resolve/resolver.js';
import type { Blocked } from '../rules/types.js';
import type { LinkFacts } from '../rules/types.js';

/**
 * The facts no-access and owner-mismatch judge, read off the tree for one link: what stops the
 * reader in the jail view (the directory it cannot search, with its mode and owners), and who
 * owns the link and its target. Owners are read with lstat as the caller: reading an owner needs
 * no permission on the entry itself.
 */
export class ReaderFacts {
  constructor(
    private readonly fs: FsPort,
    /** Host path of the jail root ('/' when none). */
    private readonly root: string,
    private readonly resolver: Resolver,
    private readonly reader: { who: Credentials; gate: ReaderGate } | null,
  ) {}

  /** With --as-user: what stops the reader in the jail view, or null. */
  readerOf(jail: Resolution): LinkFacts['reader'] {
    if (this.reader === null) return undefined;
    const { who, gate } = this.reader;
    let blocked: Blocked | null = null;
    if (jail.status === 'denied' && jail.failedAt !== null) blocked = this.blocked(jail.failedAt);
    else if (jail.status === 'ok') {
      // It resolves, but to a directory nothing below which can be opened (`current/.`).
      const host = hostOf(this.root, jail.resolved);
      const dir = host === '/' ? '' : host;
      if (this.resolver.isDirectory(host) && gate.search(this.root === '/' ? '' : this.root, dir) !== null) blocked = this.blocked(jail.resolved);
    }
    return { user: who.user, blocked };
  }

  /** With owner-mismatch on: the owners of the link and of what it resolves to in the jail view. */
  ownersOf(path: string, jail: Resolution): LinkFacts['owners'] {
    const link = this.uidOf(path);
    if (link === null) return undefined;
    const target = jail.status === 'ok' ? this.uidOf(hostOf(this.root, jail.resolved)) : null;
    return { link, target, linkName: userName(link), targetName: target === null ? '' : userName(target) };
  }

  private uidOf(hostPath: string): number | null {
    try {
      return this.fs.lstat(hostPath).uid;
    } catch {
      return null;
    }
  }

  /** The entry at `at` (a path inside the jail) as the message shows it. */
  private blocked(at: string): Blocked {
    const who = this.reader!.who;
    let s: { kind: string; mode: number; uid: number; gid: number } | null = null;
    try {
      s = this.fs.lstat(hostOf(this.root, at));
    } catch {
      s = null;
    }
    if (s === null) return { at, why: 'search', mode: '?', owner: '?', group: '?', bits: 'others' };
    if (s.kind === 'link') return { at, why: 'follow', mode: modeText(s.kind, s.mode), owner: userName(s.uid), group: groupName(s.gid), bits: 'others' };
    const bits = s.uid === who.uid ? 'owner' : s.gid === who.gid || who.groups.includes(s.gid) ? 'group' : 'others';
    const shift = bits === 'owner' ? 6 : bits === 'group' ? 3 : 0;
    // The bits that speak for the reader allow a search, yet the kernel refused: an ACL did.
    const allowed = ((s.mode >> shift) & 1) === 1;
    return { at, why: 'search', mode: modeText(s.kind, s.mode), owner: userName(s.uid), group: groupName(s.gid), bits: allowed ? 'acl' : bits };
  }
}

/** `drwx------`, as ls -l writes a mode. */
function modeText(kind: string, mode: number): string {
  const type = kind === 'dir' ? 'd' : kind === 'link' ? 'l' : '-';
  let out = type;
  for (const shift of [6, 3, 0]) {
    const b = (mode >> shift) & 7;
    const special = shift === 6 ? mode & 0o4000 : shift === 3 ? mode & 0o2000 : mode & 0o1000;
    const x = b & 1 ? (special ? (shift === 0 ? 't' : 's') : 'x') : special ? (shift === 0 ? 'T' : 'S') : '-';
    out += (b & 4 ? 'r' : '-') + (b & 2 ? 'w' : '-') + x;
  }
  return out;
}
