/**
 * --as-user judged by the kernel: random adversarial trees get random directory modes, owners,
 * groups, POSIX ACLs and sticky world-writable directories, and every link's two views as a
 * throwaway system user (its name, `uid:gid` without supplementary groups, a bare uid) are
 * compared with what the kernel answers to a process with those credentials: the oracle opens the
 * jail root first, then takes the groups, gid and uid, and resolves each link with
 * openat2(RESOLVE_IN_ROOT) from the root and open(2) from '/'. Through the library and through
 * the CLI's JSON (-j 1 and -j 2).
 *
 * Two positive controls show the comparison can fail: a resolver blind to ACLs (linkcheck's own
 * walk with a gate that reads mode bits only) is caught on links where linkcheck passes, and
 * nowhere once the ACLs are gone; linkcheck as `uid:gid` is caught against the kernel's answers
 * for the full credentials, on links the supplementary group opens.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditSync, nodeFsPort } from '../../src/index.js';
import type { AccessGate } from '../../src/resolve/reader.js';
import { type Resolution, Resolver } from '../../src/resolve/resolver.js';
import { kernelResolve, type KernelAnswer, type KernelView, oracleUnavailableReason, type OracleCredentials } from './oracle.js';
import { ensureBuilt } from '../support/build.js';
import { spawnCliAsync } from '../support/cli.js';
import { isRoot, removeDir } from '../support/disk.js';
import { requireTool, toolGate, which } from '../support/integration.js';
import { mulberry32 } from '../support/prng.js';
import { jsonToBytes, randomTree, show } from '../support/random-tree.js';
import { listLinks, materialiseTree } from '../support/tree.js';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const LINKS_PER_TREE = 2000;
/** The seed whose jail sits in a 0700 directory: the jail view resolves, the host view cannot start. */
const ABOVE_SEED = 3;
/** The seed whose jail root is 0710 root:<supplementary group>: only the user's name gets in. */
const GROUP_ROOT_SEED = 5;
/** The third run of each seed, in turn: the other two forms of --as-user, library and CLI. */
const THIRD_RUN: readonly { creds: 'uid:gid' | 'uid'; via: 'library' | 'cli' }[] = [
  { creds: 'uid:gid', via: 'library' },
  { creds: 'uid:gid', via: 'cli' },
  { creds: 'uid', via: 'library' },
  { creds: 'uid', via: 'cli' },
];
/** The seed whose ACLs are removed afterwards, to show the ACL-blind control is blind to nothing else. */
const STRIP_SEED = 1;

function whyNot(): string | null {
  const oracle = oracleUnavailableReason();
  if (oracle !== null) return oracle;
  if (!isRoot()) return 'not root: taking another user\'s credentials needs root';
  for (const c of ['useradd', 'groupadd', 'userdel', 'groupdel', 'getent', 'id']) if (!which(c)) return `no ${c} (passwd, libc-bin, coreutils)`;
  if (!which('setfacl')) return 'no setfacl (the acl package: apt-get install acl)';
  return null;
}
const gate = toolGate(whyNot());

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

// ---------------------------------------------------------------------------------------------
// Throwaway users and groups.

interface Accounts {
  reader: string;
  /** uid of each user, gid of each group. */
  uid: { reader: number; other: number; third: number };
  gid: { primary: number; supp: number; other: number };
  names: { reader: string; other: string; third: string; primary: string; supp: string; otherGroup: string };
  /** The reader's credentials as a server started by name gets them (initgroups). */
  full: OracleCredentials;
  /** `uid:gid`: no supplementary group. */
  bare: OracleCredentials;
  remove(): void;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${String(r.status)}: ${r.stderr.trim()}`);
  return r.stdout;
}

function makeAccounts(): Accounts {
  const tag = randomBytes(3).toString('hex');
  const names = { reader: `lcr${tag}`, other: `lco${tag}`, third: `lct${tag}`, primary: `lcp${tag}`, supp: `lcs${tag}`, otherGroup: `lcx${tag}` };
  const users: string[] = [];
  const groups: string[] = [];
  const remove = (): void => {
    for (const u of users.splice(0)) spawnSync('userdel', [u]);
    for (const g of groups.splice(0)) spawnSync('groupdel', [g]);
  };
  process.once('exit', remove);
  try {
    for (const g of [names.primary, names.supp, names.otherGroup]) {
      sh('groupadd', ['-r', g]);
      groups.push(g);
    }
    const user = (name: string, primary: string, extra: string[]): void => {
      sh('useradd', ['-r', '-M', '-N', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', '-g', primary, ...extra, name]);
      users.push(name);
    };
    user(names.reader, names.primary, ['-G', names.supp]);
    user(names.other, names.otherGroup, []);
    user(names.third, names.supp, []);
    const uidOf = (n: string): number => Number(sh('getent', ['passwd', n]).split(':')[2]);
    const gidOf = (n: string): number => Number(sh('getent', ['group', n]).split(':')[2]);
    const uid = { reader: uidOf(names.reader), other: uidOf(names.other), third: uidOf(names.third) };
    const gid = { primary: gidOf(names.primary), supp: gidOf(names.supp), other: gidOf(names.otherGroup) };
    return {
      reader: names.reader,
      uid,
      gid,
      names,
      full: { uid: uid.reader, gid: gid.primary, groups: [gid.primary, gid.supp].sort((x, y) => x - y) },
      bare: { uid: uid.reader, gid: gid.primary, groups: [] },
      remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Modes, owners, groups and ACLs on a materialised tree.

/**
 * Where the trees go: /dev/shm when it is a tmpfs that takes ACLs (making 2,000 links and 300
 * directories costs seconds on some disks, milliseconds there), else os.tmpdir().
 */
function treeParent(): string {
  const tmp = fs.realpathSync(os.tmpdir());
  let probe = '';
  try {
    probe = fs.mkdtempSync('/dev/shm/linkcheck-acl-probe-');
    const r = spawnSync('setfacl', ['-m', 'u:0:x', probe], { encoding: 'utf8' });
    return r.status === 0 ? '/dev/shm' : tmp;
  } catch {
    return tmp;
  } finally {
    if (probe) removeDir(probe);
  }
}

/** A fresh directory that every user can search (its parents are /tmp or /dev/shm: 1777). */
function freshDir(parent: string, prefix: string): string {
  const d = fs.mkdtempSync(path.join(parent, `linkcheck-${prefix}-`));
  fs.chmodSync(d, 0o755);
  return fs.realpathSync(d);
}

/** What was done to a tree, for the messages and the controls. */
interface Perms {
  /** Host path -> "0750 owner:group [acl]" for every directory (the jail root included). */
  describe: Map<string, string>;
  /** Directories that have ACL entries. */
  acl: string[];
  /** Links placed in sticky world-writable directories. */
  stickyLinks: number;
}

function weighted<T>(r: () => number, table: readonly [T, number][]): T {
  let x = r() * table.reduce((s, [, w]) => s + w, 0);
  for (const [v, w] of table) if ((x -= w) < 0) return v;
  return table[table.length - 1]![0];
}

/** Every directory under `dir` (not following links), byte-string host paths, sorted, `dir` excluded. */
function dirsUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: Buffer): void => {
    const ents = fs.readdirSync(d, { withFileTypes: true, encoding: 'buffer' }).sort((x, y) => Buffer.compare(x.name as unknown as Buffer, y.name as unknown as Buffer));
    for (const e of ents) {
      if (!e.isDirectory()) continue;
      const p = Buffer.concat([d, Buffer.from('/'), e.name as unknown as Buffer]);
      out.push(p.toString('latin1'));
      walk(p);
    }
  };
  walk(b(dir));
  return out;
}

const utf8Safe = (p: string): boolean => Buffer.from(b(p).toString('utf8'), 'utf8').equals(b(p));

/**
 * A few links in sticky world-writable directories, owned by someone else than the follower and
 * than the directory's owner (fs.protected_symlinks refuses those), and links that go through them.
 */
function addStickyLinks(jail: string, a: Accounts): { path: string; owner: number }[] {
  const made: { path: string; owner: number }[] = [];
  const dirs = [
    { name: 'sticky-root', owner: 0, group: 0 },
    { name: 'sticky-other', owner: a.uid.other, group: a.gid.other },
  ];
  for (const d of dirs) {
    const p = `${jail}/${d.name}`;
    fs.mkdirSync(p);
    fs.lchownSync(p, d.owner, d.group);
    fs.chmodSync(p, 0o1777);
    const owners = [0, a.uid.reader, a.uid.other, a.uid.third];
    const texts = ['../etc/passwd', '/etc', '../usr/', '/var/www/rails/current', 'missing', '../sticky-root'];
    owners.forEach((o, i) => {
      for (const [j, t] of texts.entries()) {
        if ((i + j) % 2 !== 0) continue;
        const l = `${p}/by${i}-${j}`;
        fs.symlinkSync(t, l);
        made.push({ path: l, owner: o });
      }
    });
  }
  // Through them: the check applies to links met in the middle of a walk too.
  fs.mkdirSync(`${jail}/via-sticky`);
  const through = [
    '../sticky-root/by2-0',
    '../sticky-other/by3-1/',
    '/sticky-other/by1-1',
    '../sticky-root/by3-3/../etc',
    '/sticky-other/by2-2',
    '../sticky-other/by3-1/passwd',
    '../sticky-root/by3-5/..',
    '/sticky-root/by1-1',
  ];
  for (const [i, t] of through.entries()) {
    fs.symlinkSync(t, `${jail}/via-sticky/v${i}`);
    made.push({ path: `${jail}/via-sticky/v${i}`, owner: 0 });
  }
  return made;
}

/**
 * Random modes, owners and groups on every directory under `jail`, owners on every link, and ACL
 * entries on some directories (those whose path setfacl can be given as text).
 */
function randomisePerms(seed: number, jail: string, a: Accounts, sticky: { path: string; owner: number }[]): Perms {
  const r = mulberry32(seed * 7919 + 104729);
  const owners: [number, number][] = [
    [0, 35],
    [a.uid.other, 35],
    [a.uid.reader, 15],
    [a.uid.third, 15],
  ];
  const groups: [number, number][] = [
    [0, 20],
    [a.gid.primary, 15],
    [a.gid.supp, 40],
    [a.gid.other, 25],
  ];
  // Most directories searchable by anyone (a link's walk crosses about ten of them, its own
  // path and its target's); the others decided by who owns them, their group, and ACLs.
  const openModes: [number, number][] = [
    [0o755, 55],
    [0o711, 20],
    [0o751, 10],
    [0o1777, 15],
  ];
  const closedModes: [number, number][] = [
    [0o750, 25],
    [0o710, 25],
    [0o700, 10],
    [0o701, 15],
    [0o705, 10],
    [0o770, 15],
  ];
  const R = a.names.reader;
  const S = a.names.supp;
  const aclSpecs: [string, number][] = [
    [`u:${R}:x`, 6],
    [`u:${R}:-`, 4],
    [`g:${S}:x`, 5],
    [`g:${S}:-`, 3],
    [`g:${a.names.primary}:x`, 3],
    [`u:${R}:x,m::r`, 3],
    [`g:${S}:x,m::-`, 2],
    [`u:${R}:-,g:${S}:x`, 2],
    [`u:${a.names.other}:x`, 2],
    [`g:${a.names.otherGroup}:x`, 2],
    [`u:${R}:x,g:${S}:x,m::x`, 2],
  ];
  const describe = new Map<string, string>();
  const bySpec = new Map<string, string[]>();
  const name = (id: number, kind: 'u' | 'g'): string => {
    if (id === 0) return 'root';
    if (kind === 'u') return id === a.uid.reader ? 'READER' : id === a.uid.other ? 'other' : 'third';
    return id === a.gid.primary ? 'primary' : id === a.gid.supp ? 'SUPP' : 'othergrp';
  };
  for (const d of dirsUnder(jail)) {
    if (d === `${jail}/sticky-root` || d === `${jail}/sticky-other`) {
      const s = fs.lstatSync(b(d));
      describe.set(d, `${(s.mode & 0o7777).toString(8)} ${name(s.uid, 'u')}:${name(s.gid, 'g')}`);
      continue;
    }
    const depth = d.slice(jail.length).split('/').length - 1;
    // The top level more open still, or whole seeds would be one refusal at the door.
    const closed = r() < (depth === 1 ? 0.09 : 0.18);
    const uid = weighted(r, owners);
    const gid = weighted(r, groups);
    const mode = weighted(r, closed ? closedModes : openModes);
    fs.lchownSync(b(d), uid, gid);
    fs.chmodSync(b(d), mode);
    let text = `${mode.toString(8).padStart(4, '0')} ${name(uid, 'u')}:${name(gid, 'g')}`;
    if (utf8Safe(d) && r() < (closed ? 0.45 : 0.1)) {
      const spec = weighted(r, aclSpecs);
      bySpec.set(spec, [...(bySpec.get(spec) ?? []), d]);
      text += ` acl[${spec.split(R).join('READER').split(S).join('SUPP')}]`;
    }
    describe.set(d, text);
  }
  const acl: string[] = [];
  for (const [spec, dirs] of bySpec) {
    sh('setfacl', ['-m', spec, '--', ...dirs.map((d) => b(d).toString('utf8'))]);
    acl.push(...dirs);
  }
  const stickyOwner = new Map(sticky.map((s) => [s.path, s.owner]));
  const linkOwners: [number, number][] = [
    [0, 40],
    [a.uid.reader, 20],
    [a.uid.other, 25],
    [a.uid.third, 15],
  ];
  let stickyLinks = 0;
  for (const l of listLinks(jail)) {
    const owner = stickyOwner.get(l) ?? weighted(r, linkOwners);
    fs.lchownSync(b(l), owner, owner === 0 ? 0 : owner === a.uid.other ? a.gid.other : owner === a.uid.reader ? a.gid.primary : a.gid.supp);
    if ((fs.lstatSync(b(l.slice(0, l.lastIndexOf('/')))).mode & 0o1002) === 0o1002) stickyLinks++;
  }
  return { describe, acl, stickyLinks };
}

// ---------------------------------------------------------------------------------------------
// Linkcheck's answers, three ways, and the comparison.

interface ViewAnswer {
  status: string;
  errno: string | null;
  resolved: string | null;
  failedAt: string | null;
  /** The links followed, as `path -> text` (the library's answers only: the JSON counts them). */
  hops?: string[];
}
interface Answer {
  path: string;
  target: string;
  chroot: ViewAnswer;
  host: ViewAnswer;
}

/** The library's answers, as byte strings (its results are ordinary strings, \udcXX for other bytes, as the JSON report). */
function viaLibrary(jail: string, asUser: string): Answer[] {
  const r = auditSync({ paths: [jail], root: jail, asUser });
  const b = (s: string | null): string | null => (s === null ? null : jsonToBytes(s));
  const v = (x: Resolution): ViewAnswer => ({
    status: x.status,
    errno: x.errno,
    resolved: b(x.resolved),
    failedAt: b(x.failedAt),
    hops: x.hops.map((h) => `${show(jsonToBytes(h.path))} -> ${show(jsonToBytes(h.text))}`),
  });
  return r.links.map((l) => ({ path: jsonToBytes(l.path), target: jsonToBytes(l.target), chroot: v(l.chroot), host: v(l.host) }));
}

interface JsonView {
  status: string;
  errno: string | null;
  resolved: string | null;
  failedAt: string | null;
}
interface JsonReport {
  schemaVersion: number;
  asUser?: { user: string; uid: number; gid: number; groups: number[] };
  links: { path: string; target: string; chroot: JsonView; host: JsonView }[];
}

async function viaCli(jail: string, asUser: string, jobs: 1 | 2, creds: OracleCredentials): Promise<Answer[]> {
  const args = [jail, '--root', jail, '--as-user', asUser, '--format', 'json', '--fail-on', 'never', '-j', String(jobs)];
  const run = await spawnCliAsync(args);
  if (run.code !== 0) throw new Error(`linkcheck ${args.join(' ')} exited ${String(run.code)}: ${run.stderr}`);
  const doc = JSON.parse(run.stdout) as JsonReport;
  // The report names whose verdict it is: the same credentials the oracle took.
  expect({ uid: doc.asUser?.uid, gid: doc.asUser?.gid, groups: doc.asUser?.groups }, `CLI --as-user ${asUser}: the report's asUser`).toEqual({ ...creds, groups: [...creds.groups] });
  const v = (x: JsonView): ViewAnswer => ({
    status: x.status,
    errno: x.errno,
    resolved: x.resolved === null ? null : jsonToBytes(x.resolved),
    failedAt: x.failedAt === null ? null : jsonToBytes(x.failedAt),
  });
  return doc.links.map((l) => ({ path: jsonToBytes(l.path), target: jsonToBytes(l.target), chroot: v(l.chroot), host: v(l.host) }));
}

/**
 * linkcheck's own walk with an ACL-blind gate: a directory is searchable when the owner, group or
 * other execute bit of its mode says so for the reader (the group bits are the ACL mask where
 * there is one, as a resolver reading st_mode would take them). A positive control.
 */
class ModeBitsGate implements AccessGate {
  private readonly groups: Set<number>;
  private readonly protectedSymlinks: boolean;
  constructor(private readonly who: OracleCredentials) {
    this.groups = new Set([who.gid, ...who.groups]);
    this.protectedSymlinks = fs.readFileSync('/proc/sys/fs/protected_symlinks', 'utf8').trim() === '1';
  }
  search(_viewRoot: string, hostDir: string): string | null {
    const s = fs.lstatSync(b(hostDir || '/'));
    const bit = s.uid === this.who.uid ? 0o100 : this.groups.has(s.gid) ? 0o010 : 0o001;
    return (s.mode & bit) !== 0 ? null : 'EACCES';
  }
  follow(hostDir: string, hostPath: string): boolean {
    if (!this.protectedSymlinks) return true;
    const d = fs.lstatSync(b(hostDir || '/'));
    if ((d.mode & 0o1002) !== 0o1002) return true;
    const owner = fs.lstatSync(b(hostPath)).uid;
    return owner === this.who.uid || owner === d.uid;
  }
}

function viaModeBits(jail: string, links: readonly string[], who: OracleCredentials): Answer[] {
  const port = nodeFsPort();
  const resolver = new Resolver(port, { gate: new ModeBitsGate(who) });
  const v = (x: Resolution): ViewAnswer => ({ status: x.status, errno: x.errno, resolved: x.resolved, failedAt: x.failedAt });
  return links.map((p) => {
    const dir = p.slice(0, p.lastIndexOf('/'));
    const name = p.slice(p.lastIndexOf('/') + 1);
    const text = port.readlink(p);
    return { path: p, target: text, chroot: v(resolver.resolveLink({ rootHost: jail }, dir, name, text)), host: v(resolver.resolveLink({ rootHost: '' }, dir, name, text)) };
  });
}

/** Differences between our view and the kernel's: status; errno when it failed; the path when ok. */
function viewDiffers(ours: ViewAnswer, kern: KernelView): boolean {
  if (ours.status !== kern.status) return true;
  if (kern.status === 'ok') return ours.resolved !== kern.resolved;
  return ours.errno !== kern.errno;
}

interface Verdict {
  /** Links that disagree (or are missing / reported twice), by path. */
  bad: Set<string>;
  lines: string[];
}

function compare(label: string, links: readonly string[], kernel: readonly KernelAnswer[], got: readonly Answer[], perms: Perms, jail: string): Verdict {
  const bad = new Set<string>();
  const lines: string[] = [];
  const byPath = new Map<string, Answer>();
  for (const g of got) {
    if (byPath.has(g.path)) {
      bad.add(g.path);
      lines.push(`${label}: ${show(g.path)} reported twice`);
    }
    byPath.set(g.path, g);
  }
  if (byPath.size !== links.length) lines.push(`${label}: ${byPath.size} links reported, ${links.length} on disk`);
  links.forEach((p, i) => {
    const g = byPath.get(p);
    const k = kernel[i]!;
    if (g === undefined) {
      bad.add(p);
      lines.push(`${label}: ${show(p)} on disk is not reported`);
      return;
    }
    const views = (['chroot', 'host'] as const).filter((v) => viewDiffers(g[v], k[v]));
    if (views.length === 0) return;
    bad.add(p);
    const one = (x: ViewAnswer): string =>
      `${x.status} ${x.errno ?? ''} ${show(x.resolved)} failedAt ${show(x.failedAt)}${x.hops && x.hops.length > 1 ? ` (links followed: ${x.hops.join(', ')})` : ''}`;
    const kv = (x: KernelView): string => `${x.status} ${x.errno ?? ''} ${show(x.resolved)}`;
    lines.push(
      `${label}: ${show(p.slice(jail.length))} -> ${show(g.target)}` +
        views.map((v) => `\n    ${v}: ours ${one(g[v])}; kernel ${kv(k[v])}`).join('') +
        `\n    on the way: ${dirsOnTheWay(p, jail, perms)}`,
    );
  });
  return { bad, lines };
}

/** The modes of the link's directories in the jail, for a message. */
function dirsOnTheWay(linkPath: string, jail: string, perms: Perms): string {
  const out: string[] = [`/ ${perms.describe.get(jail) ?? '?'}`];
  const parts = linkPath.slice(jail.length + 1).split('/').slice(0, -1);
  let at = jail;
  for (const c of parts) {
    at += `/${c}`;
    out.push(`${show(c)} ${perms.describe.get(at) ?? '?'}`);
  }
  return out.join(' > ');
}

/**
 * Where linkcheck says the reader was refused, the kernel must agree that it is the first
 * directory on its own path the reader cannot search: the reader can reach it (open ok) but not
 * look inside it (`<dir>/.` EACCES). Links named there (fs.protected_symlinks) are left out.
 */
function checkFailedAt(jail: string, got: readonly Answer[], who: OracleCredentials): { checked: number; lines: string[] } {
  const jailDirs = new Set<string>();
  const hostDirs = new Set<string>();
  for (const g of got) {
    if (g.chroot.status === 'denied' && g.chroot.failedAt !== null) jailDirs.add(g.chroot.failedAt === '/' ? jail : jail + g.chroot.failedAt);
    if (g.host.status === 'denied' && g.host.failedAt !== null) hostDirs.add(g.host.failedAt);
  }
  const lines: string[] = [];
  let checked = 0;
  for (const [view, dirs] of [
    ['chroot', jailDirs],
    ['host', hostDirs],
  ] as const) {
    const list = [...dirs].filter((d) => fs.lstatSync(b(d), { throwIfNoEntry: false })?.isDirectory() === true);
    if (list.length === 0) continue;
    const answers = kernelResolve(view === 'chroot' ? jail : '/', [...list, ...list.map((d) => `${d}/.`)], who);
    list.forEach((d, i) => {
      const reach = answers[i]![view];
      const inside = answers[i + list.length]![view];
      checked++;
      if (reach.status !== 'ok' || inside.errno !== 'EACCES')
        lines.push(`${view} failedAt ${show(d)}: the kernel reaches it: ${reach.status} ${reach.errno ?? ''}, looks inside: ${inside.status} ${inside.errno ?? ''}`);
    });
  }
  return { checked, lines };
}

// ---------------------------------------------------------------------------------------------

interface Totals {
  links: number;
  compared: number;
  disagreements: number;
  lines: string[];
  byStatus: Map<string, number>;
  credsDiffer: number;
  aclCaught: number;
  groupsCaught: number;
  failedAtChecked: number;
  stickyLinks: number;
  aclDirs: number;
}

describe.skipIf(gate.skip)(`--as-user vs the kernel on random trees with modes, groups and ACLs${gate.label}`, () => {
  let accounts: Accounts | null = null;
  let parent = '';
  const t0 = Date.now();
  const protectedSymlinks = fs.existsSync('/proc/sys/fs/protected_symlinks') ? fs.readFileSync('/proc/sys/fs/protected_symlinks', 'utf8').trim() : 'absent';
  const totals: Totals = {
    links: 0,
    compared: 0,
    disagreements: 0,
    lines: [],
    byStatus: new Map(),
    credsDiffer: 0,
    aclCaught: 0,
    groupsCaught: 0,
    failedAtChecked: 0,
    stickyLinks: 0,
    aclDirs: 0,
  };

  beforeAll(() => {
    requireTool(whyNot());
    ensureBuilt();
    accounts = makeAccounts();
    parent = treeParent();
  });
  afterAll(() => {
    accounts?.remove();
    const st = [...totals.byStatus.entries()].sort().map(([k, n]) => `${k} ${n}`).join(', ');
    // eslint-disable-next-line no-console
    console.log(
      `as-user-vs-kernel: trees under ${parent}; fs.protected_symlinks=${protectedSymlinks}; ${totals.links} links over ${SEEDS.length} seeds, ` +
        `${totals.compared} link comparisons (2 views each), ${totals.disagreements} disagreements; ` +
        `kernel (name): ${st}; ${totals.credsDiffer} links answered differently for uid:gid; ` +
        `${totals.aclDirs} directories with ACLs, ${totals.stickyLinks} links in sticky world-writable directories; ` +
        `controls caught: ACL-blind ${totals.aclCaught}, no supplementary groups ${totals.groupsCaught}; ` +
        `${totals.failedAtChecked} failedAt directories checked; ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  });

  it('the oracle answers as the credentials it is given: modes, groups, ACLs, the jail above its root', () => {
    const a = accounts!;
    const base = freshDir(parent, 'asuser-oracle');
    try {
      const jail = `${base}/jail`;
      fs.mkdirSync(jail, { mode: 0o755 });
      const dir = (name: string, mode: number, uid: number, gid: number, acl?: string): void => {
        fs.mkdirSync(`${jail}/${name}`);
        fs.lchownSync(`${jail}/${name}`, uid, gid);
        fs.chmodSync(`${jail}/${name}`, mode);
        if (acl !== undefined) sh('setfacl', ['-m', acl, `${jail}/${name}`]);
      };
      dir('open', 0o755, 0, 0);
      dir('closed', 0o700, a.uid.other, a.gid.other);
      dir('grp', 0o710, 0, a.gid.supp);
      dir('aclu', 0o700, a.uid.other, a.gid.other, `u:${a.names.reader}:x`);
      dir('acld', 0o755, 0, 0, `u:${a.names.reader}:-`);
      const texts: Record<string, string> = {
        slash: 'closed/',
        dot: 'closed/.',
        inside: 'closed/missing',
        up: 'closed/../open',
        grp: 'grp/.',
        aclu: 'aclu/.',
        acld: 'acld/.',
        abs: '/open/.',
      };
      for (const [n, t] of Object.entries(texts)) fs.symlinkSync(t, `${jail}/l-${n}`);
      // Above the jail: the host view cannot start, the jail view never looks there.
      fs.chmodSync(base, 0o700);
      const paths = Object.keys(texts).map((n) => `${jail}/l-${n}`);
      const ok = (p: string): KernelView => ({ status: 'ok', errno: null, resolved: p });
      const denied: KernelView = { status: 'denied', errno: 'EACCES', resolved: null };
      const jailView = (who: OracleCredentials | undefined): Record<string, KernelView> => {
        const answers = kernelResolve(jail, paths, who);
        return Object.fromEntries(Object.keys(texts).map((n, i) => [n, answers[i]!.chroot]));
      };
      const full = jailView(a.full);
      // open("closed/") asks only that closed is a directory; "closed/." looks inside it.
      expect(full).toEqual({ slash: ok('/closed'), dot: denied, inside: denied, up: denied, grp: ok('/grp'), aclu: ok('/aclu'), acld: denied, abs: ok('/open') });
      expect(jailView(a.bare)).toEqual({ ...full, grp: denied });
      expect(kernelResolve(jail, paths, a.full).map((k) => k.host)).toEqual(paths.map(() => denied));
      // As root (no credentials given) nothing is refused: the oracle as before.
      const asRoot = kernelResolve(jail, paths);
      expect(asRoot.map((k) => k.chroot.status)).toEqual(['ok', 'ok', 'dangling', 'ok', 'ok', 'ok', 'ok', 'ok']);
      expect(asRoot[0]!.host).toEqual(ok(`${jail}/closed`));
    } finally {
      removeDir(base);
    }
  });

  for (const seed of SEEDS) {
    const third = THIRD_RUN[(seed - 1) % THIRD_RUN.length]!;
    it(`seed ${seed}: both views as the user agree with the kernel (name: library, CLI -j ${seed % 2 === 1 ? 1 : 2}; ${third.creds}: ${third.via})`, async () => {
      const a = accounts!;
      const base = freshDir(parent, `asuser-${seed}`);
      try {
        const jail = seed === ABOVE_SEED ? `${base}/jail` : base;
        if (seed === ABOVE_SEED) {
          // A directory above the jail the user cannot search: a chrooted server never looks there.
          fs.chmodSync(base, 0o700);
          fs.mkdirSync(jail);
        }
        materialiseTree(jail, randomTree(seed, { links: LINKS_PER_TREE }));
        const sticky = addStickyLinks(jail, a);
        const perms = randomisePerms(seed, jail, a, sticky);
        if (seed === GROUP_ROOT_SEED) {
          fs.lchownSync(jail, 0, a.gid.supp);
          fs.chmodSync(jail, 0o710);
        } else {
          fs.lchownSync(jail, 0, 0);
          fs.chmodSync(jail, 0o755);
        }
        const rootStat = fs.lstatSync(jail);
        perms.describe.set(jail, `${(rootStat.mode & 0o7777).toString(8).padStart(4, '0')} root:${rootStat.gid === 0 ? 'root' : 'SUPP'}`);
        totals.stickyLinks += perms.stickyLinks;
        totals.aclDirs += perms.acl.length;

        const links = listLinks(jail).sort();
        const kFull = kernelResolve(jail, links, a.full);
        const kBare = kernelResolve(jail, links, a.bare);
        totals.links += links.length;
        for (const k of kFull) for (const v of [k.chroot, k.host]) totals.byStatus.set(v.status, (totals.byStatus.get(v.status) ?? 0) + 1);
        const credsDiffer = links.filter((_, i) => JSON.stringify(kFull[i]) !== JSON.stringify(kBare[i])).length;
        totals.credsDiffer += credsDiffer;

        // Three runs a seed, the CLI child beside the library: the name through the library and
        // through the CLI (-j 1 on odd seeds, -j 2 on even ones), and a third run that goes round
        // uid:gid and the bare uid, through the library and through the CLI (-j 1).
        const uidGid = `${a.uid.reader}:${a.gid.primary}`;
        const uidOnly = String(a.uid.reader);
        const spec = third.creds === 'uid:gid' ? uidGid : uidOnly;
        const creds = third.creds === 'uid:gid' ? a.bare : a.full;
        const jobs = seed % 2 === 1 ? 1 : 2;
        const cli = Promise.all([viaCli(jail, a.reader, jobs, a.full), third.via === 'cli' ? viaCli(jail, spec, 1, creds) : null]);
        const libName = viaLibrary(jail, a.reader);
        const libThird = third.via === 'library' ? viaLibrary(jail, spec) : null;
        const [cliName, cliThird] = await cli;
        const thirdAnswers = (libThird ?? cliThird)!;

        const verdicts = [
          compare(`seed ${seed} library --as-user ${a.reader}`, links, kFull, libName, perms, jail),
          compare(`seed ${seed} CLI -j ${jobs} --as-user ${a.reader}`, links, kFull, cliName, perms, jail),
          compare(`seed ${seed} ${third.via === 'cli' ? 'CLI -j 1' : 'library'} --as-user ${third.creds}`, links, third.creds === 'uid:gid' ? kBare : kFull, thirdAnswers, perms, jail),
        ];
        totals.compared += links.length * verdicts.length;
        const lines = verdicts.flatMap((v) => v.lines);
        totals.disagreements += verdicts.reduce((s, v) => s + v.bad.size, 0);

        const fa = checkFailedAt(jail, libName, a.full);
        totals.failedAtChecked += fa.checked;

        // Positive control (a): linkcheck's walk with a mode-bits-only gate, against the kernel.
        const blind = compare(`seed ${seed} ACL-blind control`, links, kFull, viaModeBits(jail, links, a.full), perms, jail);
        const aclCaught = [...blind.bad].filter((p) => !verdicts[0]!.bad.has(p)).length;
        totals.aclCaught += aclCaught;
        // Positive control (b): linkcheck as uid:gid against the kernel's answers for the full credentials.
        if (third.creds === 'uid:gid') {
          const noGroups = compare(`seed ${seed} no-supplementary-groups control`, links, kFull, thirdAnswers, perms, jail);
          const caught = [...noGroups.bad].filter((p) => !verdicts[2]!.bad.has(p));
          totals.groupsCaught += caught.length;
          // What it catches are links the supplementary groups decide, and nothing else.
          const differ = new Set(links.filter((_, i) => JSON.stringify(kFull[i]) !== JSON.stringify(kBare[i])));
          expect(caught.filter((p) => !differ.has(p)), 'the no-groups control is caught on links the groups do not decide').toEqual([]);
        }

        if (seed === STRIP_SEED) {
          // Without the ACLs the blind gate is exact: it differs from linkcheck nowhere.
          sh('setfacl', ['-b', '--', ...perms.acl.map((d) => b(d).toString('utf8'))]);
          const again = viaModeBits(jail, links, a.full);
          const lib = viaLibrary(jail, a.reader);
          const plain = (x: Answer): string => JSON.stringify([x.path, x.target, ...[x.chroot, x.host].map((v) => [v.status, v.errno, v.resolved, v.failedAt])]);
          const libBy = new Map(lib.map((x) => [x.path, plain(x)]));
          const same = again.filter((x) => plain(x) !== libBy.get(x.path)).map((x) => show(x.path));
          expect(same, 'with the ACLs removed the ACL-blind control and linkcheck answer alike').toEqual([]);
          const kNoAcl = kernelResolve(jail, links, a.full);
          const stripped = compare(`seed ${seed} library without ACLs`, links, kNoAcl, lib, perms, jail);
          lines.push(...stripped.lines);
          totals.disagreements += stripped.bad.size;
          totals.compared += links.length;
        }

        totals.lines.push(...lines);
        // The scenario is what it claims to be.
        expect(links.length).toBeGreaterThanOrEqual(LINKS_PER_TREE);
        expect(perms.acl.length, 'directories with ACLs').toBeGreaterThan(5);
        if (seed === ABOVE_SEED) {
          expect(kFull.every((k) => k.host.status === 'denied'), 'above-root seed: every host view denied').toBe(true);
          expect(kFull.filter((k) => k.chroot.status === 'ok').length, 'above-root seed: jail views that resolve').toBeGreaterThan(links.length / 10);
        }
        if (seed === GROUP_ROOT_SEED) expect(kBare.every((k) => k.chroot.status === 'denied'), 'group-only root: every uid:gid jail view denied').toBe(true);
        if (seed !== GROUP_ROOT_SEED) expect(credsDiffer, 'links the supplementary group decides').toBeGreaterThan(0);
        expect(fa.lines, `failedAt is not where the kernel stops:\n${fa.lines.slice(0, 20).join('\n')}`).toEqual([]);
        expect(lines, `${lines.length} disagreements with the kernel:\n${lines.slice(0, 40).join('\n')}`).toEqual([]);
      } finally {
        removeDir(base);
      }
    });
  }

  it('the positive controls were caught: an ACL-blind resolver, and one without supplementary groups', () => {
    expect(totals.aclCaught, 'links where only the ACL-blind control disagrees with the kernel').toBeGreaterThan(0);
    expect(totals.groupsCaught, 'links where only the no-groups control disagrees with the kernel').toBeGreaterThan(0);
    expect(totals.links).toBeGreaterThanOrEqual(20_000);
  });
});
