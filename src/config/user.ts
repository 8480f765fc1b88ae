import { groupsOf, passwdEntry } from '../core/accounts.js';
import { UsageError } from '../core/errors.js';
import type { Credentials } from '../resolve/reader.js';

/**
 * --as-user's value as the credentials a server of that user runs with: a name is looked up in
 * the host's user and group databases, as lighttpd and nginx do before chroot (uid, primary gid,
 * and every group it is in); `uid:gid` is exactly those two, no other group; a bare uid takes its
 * passwd entry's gid and groups when it has one, else gid = uid.
 */
export function credentialsOf(spec: string): Credentials {
  const s = spec.trim();
  if (s === '') throw new UsageError('--as-user is empty: name the user the service runs as (www-data), or give uid[:gid]');
  const numeric = /^(\d+)(?::(\d+))?$/.exec(s);
  let c: Credentials;
  if (numeric?.[2] !== undefined) c = { user: s, uid: Number(numeric[1]), gid: Number(numeric[2]), groups: [] };
  else if (numeric) {
    const uid = Number(numeric[1]);
    const e = passwdEntry(String(uid));
    c = e ? { user: e.name, uid, gid: e.gid, groups: groupsOf(e.name, e.gid) } : { user: String(uid), uid, gid: uid, groups: [] };
  } else {
    const e = passwdEntry(s);
    if (e === null) throw new UsageError(`--as-user ${s}: no such user in the host's user database (getent passwd ${s} finds nothing)`);
    c = { user: e.name, uid: e.uid, gid: e.gid, groups: groupsOf(e.name, e.gid) };
  }
  for (const n of [c.uid, c.gid]) if (!Number.isSafeInteger(n) || n > 0xfffffffe) throw new UsageError(`--as-user ${s}: ${n} is not a valid id`);
  const me = process.getuid?.();
  if (me !== undefined && me !== 0 && c.uid !== me)
    throw new UsageError(`--as-user ${s}: judging as another user needs root (this is uid ${me}); run linkcheck as root, or as ${c.user} without --as-user`);
  return c;
}
