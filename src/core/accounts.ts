import { spawnSync } from 'node:child_process';

/**
 * The host's user and group databases, through getent(1) so that every NSS source counts (files,
 * LDAP, systemd's dynamic users), as a server's getpwnam and initgroups see them. Answers are kept:
 * a run asks about a handful of owners.
 */

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

const users = new Map<string, PasswdEntry | null>();
const groups = new Map<number, string>();

/** A passwd entry by name or by uid (as text), or null when there is none. */
export function passwdEntry(key: string): PasswdEntry | null {
  let e = users.get(key);
  if (e === undefined) {
    const fields = getent('passwd', key)?.split(':');
    e = fields && fields.length >= 4 ? { name: fields[0]!, uid: Number(fields[2]), gid: Number(fields[3]) } : null;
    users.set(key, e);
  }
  return e;
}

/** Every group `name` is in, its primary group `gid` included (initgroups(3), as `id -G` answers). */
export function groupsOf(name: string, gid: number): number[] {
  const r = spawnSync('id', ['-G', '--', name], { encoding: 'utf8' });
  const list = r.status === 0 ? r.stdout.trim().split(/\s+/).filter(Boolean).map(Number) : [];
  return [...new Set([gid, ...list])].sort((a, b) => a - b);
}

/** A uid's name, or the number as text. */
export function userName(uid: number): string {
  return passwdEntry(String(uid))?.name ?? String(uid);
}

/** A gid's name, or the number as text. */
export function groupName(gid: number): string {
  let n = groups.get(gid);
  if (n === undefined) {
    n = getent('group', String(gid))?.split(':')[0] ?? String(gid);
    groups.set(gid, n);
  }
  return n;
}

function getent(db: 'passwd' | 'group', key: string): string | null {
  const r = spawnSync('getent', [db, key], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? null) : null;
}
