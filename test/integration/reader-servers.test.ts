/**
 * linkcheck judged by real web servers reading the tree as www-data: what the servers refuse is
 * the ground truth, and linkcheck must report exactly that.
 *
 * - lighttpd in a chroot (server.chroot, document root /var/www/rails/current/public inside the
 *   jail) serves a Capistrano-shaped tree while the modes of its directories change: a 0700
 *   release, a 0700 shared dir, a 0750 dir of a group www-data is not in, a 0700 dir opened by an
 *   ACL entry, a 0710 dir of a group www-data is a supplementary member of, and ACL entries that
 *   deny. `linkcheck --as-user www-data` must exit 1 exactly when a page is refused, flag
 *   `no-access` on a link of every refused page's path and of no served page's, and name the
 *   directory that blocks.
 * - nginx (`disable_symlinks if_not_owner`) and Apache (`Options SymLinksIfOwnerMatch`) serve a
 *   tree (root /) with links of every owner pairing (root, www-data, a third user), to files and
 *   to directories in the middle of a URL, chains and links inside linked directories. A URL is
 *   refused exactly when a link on its path is flagged `owner-mismatch`.
 *
 * Measured (lighttpd 1.4.69, nginx 1.22.1, Apache 2.4 on Debian 12, Linux 6.x, ext4):
 * - both owner rules compare a link's owner with the owner of its final target (a chain is
 *   followed to its end: the hop's owner does not count), check every component of the request
 *   path (a link inside a linked directory too), and do not exempt root; links met while
 *   resolving a link's target are not checked. nginx and Apache refuse the same URLs.
 * - Linux consults a directory's ACL only when its group class (the mask) is not empty: with
 *   `u:www-data:---` and an empty mask the "other" bits decide, so 0701 + `u:www-data:---` lets
 *   www-data through (POSIX.1e says the named entry wins); with a mask of --x it does not.
 * - lighttpd 1.4.69 opens its error log after chroot(2) (a host path fails: it logs to stderr
 *   here) and writes its pid file before; its stat cache would hide a chmod for a second.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { isRoot, links, removeDir, sleep, tempDir } from '../support/disk.js';
import { freePort, missingCommand, requireTool, run, toolGate, waitForPort, which } from '../support/integration.js';

const READER = 'www-data';
/** Owns the deploy tree, and is the third owner of the owner-pairing tree. */
const DEPLOY = 'deploy';
/** A group www-data is a supplementary member of, for the group-opened directory. */
const TEAM = 'linkcheck-web';
const sbin = (cmd: string): string => which(cmd) ?? `/usr/sbin/${cmd}`;
const LIGHTTPD = sbin('lighttpd');
const NGINX = sbin('nginx');
const APACHE = sbin('apache2');
const APACHE_MODULES = '/usr/lib/apache2/modules';
const USERADD = sbin('useradd');
const USERDEL = sbin('userdel');
const GROUPADD = sbin('groupadd');
const GROUPDEL = sbin('groupdel');
const GPASSWD = which('gpasswd') ?? '/usr/bin/gpasswd';

function missing(): string | null {
  if (process.platform !== 'linux') return `needs Linux (chroot(2), POSIX ACLs), this is ${process.platform}`;
  if (!isRoot()) return 'starting servers that drop to www-data, chroot(2), chown and useradd need root';
  const tool = missingCommand([LIGHTTPD, NGINX, APACHE, `${APACHE_MODULES}/mod_mpm_prefork.so`, 'setfacl', 'getent', USERADD, USERDEL, GROUPADD, GROUPDEL, GPASSWD]);
  if (tool !== null) return tool;
  return account(READER) === null ? `no ${READER} user (Debian's base-passwd has it)` : null;
}

interface Account {
  name: string;
  uid: number;
  gid: number;
}

function account(name: string): Account | null {
  const r = run('getent', ['passwd', name]);
  if (r.code !== 0) return null;
  const f = r.stdout.trim().split(':');
  return { name, uid: Number(f[2]), gid: Number(f[3]) };
}

function groupId(name: string): number | null {
  const r = run('getent', ['group', name]);
  return r.code === 0 ? Number(r.stdout.trim().split(':')[2]) : null;
}

function groupMembers(name: string): string[] {
  const r = run('getent', ['group', name]);
  return r.code === 0 ? (r.stdout.trim().split(':')[3] ?? '').split(',').filter(Boolean) : [];
}

/** `name` of a uid or gid as ls shows it (the number when there is none). */
function nameOf(db: 'passwd' | 'group', id: number): string {
  const r = run('getent', [db, String(id)]);
  return r.code === 0 ? r.stdout.split(':')[0]! : String(id);
}

function must(cmd: string, args: string[]): void {
  const r = run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.out}`);
}

/** `drwx------`: the permission bits of a directory as ls prints them (no ACL mark). */
function modeString(mode: number): string {
  const bits = 'rwxrwxrwx';
  let s = 'd';
  for (let i = 0; i < 9; i++) s += mode & (0o400 >> i) ? bits[i] : '-';
  return s;
}

/**
 * The links a request for `rel` (below the real directory `from`) passes through, by host path:
 * each component that is a symlink, its parent taken as the kernel reaches it (realpath).
 */
function linksOnPath(from: string, rel: string): string[] {
  const out: string[] = [];
  let cur = from;
  for (const name of rel.split('/').filter(Boolean)) {
    const p = `${cur === '/' ? '' : cur}/${name}`;
    if (fs.lstatSync(p).isSymbolicLink()) out.push(p);
    cur = fs.realpathSync(p);
  }
  return out;
}

interface Response {
  status: number;
  body: string;
}

/** GET http://127.0.0.1:port/urlPath, no keep-alive, bounded. */
function get(port: number, urlPath: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} on port ${port}: no answer in 5 s`)));
    req.on('error', reject);
  });
}


interface Server {
  name: string;
  port: number;
  child: ChildProcess;
  log: string;
}

/** Servers still running, killed when this process exits whatever happened to the hooks. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) killGroup(c, 'SIGKILL');
});

/** Signals the server's process group (it is started in one of its own: nginx's workers are in it). */
function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, sig);
  } catch {
    // Already gone.
  }
}

const exited = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null;

async function stopServer(server: Server | null): Promise<void> {
  if (server === null) return;
  const { child } = server;
  if (!exited(child)) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child, 'SIGTERM');
    await Promise.race([gone, sleep(5000)]);
    // Workers may outlive a master that took SIGKILL: the group takes them too.
    killGroup(child, 'SIGKILL');
  }
  running.delete(child);
}

/**
 * Starts a foreground server on a free port of 127.0.0.1 (`command` gets the port and writes its
 * config), its output appended to `log`; another port is tried when the picked one was taken.
 */
async function startServer(name: string, log: string, command: (port: number) => { cmd: string; args: string[] }): Promise<Server> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const { cmd, args } = command(port);
    const fd = fs.openSync(log, 'a');
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    running.add(child);
    child.on('error', () => {});
    try {
      await waitForPort(port, 10_000, () => !exited(child), name);
      return { name, port, child, log };
    } catch (err) {
      await stopServer({ name, port, child, log });
      if (attempt === 2) throw new Error(`${name} did not start (${String(err)}):\n${fs.readFileSync(log, 'utf8')}`);
    }
  }
}

interface View {
  status: string;
  resolved: string | null;
  errno: string | null;
  failedAt: string | null;
  hops: number;
}

interface Finding {
  rule: string;
  code: string;
  severity: string;
  message: string;
}

interface LinkRecord {
  path: string;
  inside: string;
  chroot: View;
  host: View;
  findings: Finding[];
}

interface Report {
  asUser?: { user: string; uid: number; gid: number; groups: Array<number | string> };
  links: LinkRecord[];
}

/** The built CLI with a JSON report; `--no-config` unless the arguments name a config file. */
function linkcheck(args: string[]): { code: number | null; report: Report; out: string } {
  const full = [...args, '--format', 'json', ...(args.includes('--config') ? [] : ['--no-config'])];
  const r = spawnCli(full);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`linkcheck ${full.join(' ')} printed no JSON report (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  }
  return { code: r.code, report, out: `linkcheck ${full.join(' ')} (exit ${r.code})\n${r.stderr}` };
}

/** Each link that has a finding of `rule`, with it. */
function findingsOf(report: Report, rule: string): Array<{ link: LinkRecord; finding: Finding }> {
  return report.links.flatMap((link) => link.findings.filter((f) => f.rule === rule).map((finding) => ({ link, finding })));
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const reason = missing();
const gate = toolGate(reason);

describe.skipIf(gate.skip)(`real servers reading as ${READER} judge linkcheck${gate.label}`, () => {
  let reader: Account = { name: READER, uid: -1, gid: -1 };
  let deploy: Account = { name: DEPLOY, uid: -1, gid: -1 };
  let teamGid = -1;
  const undo: Array<() => void> = [];

  beforeAll(() => {
    requireTool(reason);
    ensureBuilt();
    if (account(DEPLOY) === null) {
      must(USERADD, ['-r', '-U', '-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', DEPLOY]);
      undo.push(() => must(USERDEL, [DEPLOY]));
    }
    if (groupId(TEAM) === null) {
      must(GROUPADD, ['-r', TEAM]);
      undo.push(() => must(GROUPDEL, [TEAM]));
    }
    if (!groupMembers(TEAM).includes(READER)) {
      must(GPASSWD, ['-a', READER, TEAM]);
      undo.push(() => must(GPASSWD, ['-d', READER, TEAM]));
    }
    reader = account(READER)!;
    deploy = account(DEPLOY)!;
    teamGid = groupId(TEAM)!;
  });

  afterAll(() => {
    for (const u of undo.reverse()) u();
  });

  describe('lighttpd chrooted into /srv/lighty: the pages it refuses and `--as-user www-data` no-access', () => {
    const DOCROOT = '/var/www/rails/current/public';
    const RELEASE = 'releases/20261207';
    /** The shared directories a release's public/ links to, each given its own modes below. */
    const SHARED = ['system', 'locked', 'staff', 'acl', 'team'];
    const PAGES = ['index.html', ...SHARED.map((d) => `${d}/page.html`)];
    let base = '';
    let jail = '';
    let app = '';
    let server: Server | null = null;

    const content = (page: string): string => `${page} from the jail\n`;
    const dir = (rel: string): string => `${app}/${rel}`;
    const setfacl = (rel: string, ...args: string[]): void => must('setfacl', [...args, dir(rel)]);

    /** Every directory the scenarios change back to deploy:deploy 0755 without ACLs. */
    const reset = (): void => {
      for (const rel of [RELEASE, ...SHARED.map((d) => `shared/${d}`)]) {
        setfacl(rel, '-b');
        fs.lchownSync(dir(rel), deploy.uid, deploy.gid);
        fs.chmodSync(dir(rel), 0o755);
      }
    };

    beforeAll(async () => {
      base = tempDir('reader-lighty');
      // As /srv is: the host path to the jail is searchable, so the host view of each link is
      // judged on the same directories as the jail view.
      fs.chmodSync(base, 0o755);
      jail = `${base}/srv/lighty`;
      app = `${jail}/var/www/rails`;
      fs.mkdirSync(`${app}/${RELEASE}/public`, { recursive: true, mode: 0o755 });
      // lighttpd checks server.upload-dirs (default /var/tmp) inside the jail at start.
      fs.mkdirSync(`${jail}/var/tmp`, { recursive: true });
      fs.chmodSync(`${jail}/var/tmp`, 0o1777);
      fs.writeFileSync(`${app}/${RELEASE}/public/index.html`, content('index.html'), { mode: 0o644 });
      for (const d of SHARED) {
        fs.mkdirSync(`${app}/shared/${d}`, { recursive: true, mode: 0o755 });
        fs.writeFileSync(`${app}/shared/${d}/page.html`, content(`${d}/page.html`), { mode: 0o644 });
        // As Capistrano's linked_dirs, but relative: the jail sees the same directory.
        fs.symlinkSync(`../../../shared/${d}`, `${app}/${RELEASE}/public/${d}`);
      }
      fs.symlinkSync(RELEASE, `${app}/current`);
      for (const top of ['releases', 'shared']) {
        for (const p of [`${app}/${top}`, ...fs.readdirSync(`${app}/${top}`, { recursive: true }).map((r) => `${app}/${top}/${String(r)}`)]) {
          fs.lchownSync(p, deploy.uid, deploy.gid);
          if (!fs.lstatSync(p).isSymbolicLink()) fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o755 : 0o644);
        }
      }
      fs.lchownSync(`${app}/current`, deploy.uid, deploy.gid);

      const runDir = `${base}/run`;
      fs.mkdirSync(runDir);
      server = await startServer('lighttpd', `${runDir}/lighttpd.log`, (port) => {
        fs.writeFileSync(
          `${runDir}/lighttpd.conf`,
          [
            `server.chroot = "${jail}"`,
            `server.username = "${READER}"`,
            `server.groupname = "${READER}"`,
            `server.document-root = "${DOCROOT}"`,
            `server.bind = "127.0.0.1"`,
            `server.port = ${port}`,
            // Written before chroot(2). The error log would be opened after it: stderr, our log.
            `server.pid-file = "${runDir}/lighttpd.pid"`,
            // The default stat cache keeps a stat for about a second: a scenario's chmod must show at once.
            'server.stat-cache-engine = "disable"',
            'mimetype.assign = ( ".html" => "text/html" )',
            '',
          ].join('\n'),
        );
        return { cmd: LIGHTTPD, args: ['-D', '-f', `${runDir}/lighttpd.conf`] };
      });
    });

    afterAll(async () => {
      await stopServer(server);
      removeDir(base);
    });

    interface Scenario {
      title: string;
      apply(): void;
      /** The pages lighttpd refuses (checked by hand with lighttpd 1.4.69). */
      refused: string[];
      /** The directories (below the app) that block www-data, each to be named by the no-access messages. */
      blocks: string[];
    }

    const SCENARIOS: Scenario[] = [
      {
        title: `the release 0700 ${DEPLOY}:${DEPLOY}: every page refused, ${RELEASE} named`,
        apply: () => fs.chmodSync(dir(RELEASE), 0o700),
        refused: PAGES,
        blocks: [RELEASE],
      },
      {
        title: 'the release after chmod o+x (0701): every page served, exit 0',
        apply: () => fs.chmodSync(dir(RELEASE), 0o701),
        refused: [],
        blocks: [],
      },
      {
        title: 'shared/system 0700 behind public/system: that page refused',
        apply: () => fs.chmodSync(dir('shared/system'), 0o700),
        refused: ['system/page.html'],
        blocks: ['shared/system'],
      },
      {
        title: `a 0700 dir and a 0750 dir of a group ${READER} is not in: both refused`,
        apply: () => {
          fs.chmodSync(dir('shared/locked'), 0o700);
          fs.chmodSync(dir('shared/staff'), 0o750);
        },
        refused: ['locked/page.html', 'staff/page.html'],
        blocks: ['shared/locked', 'shared/staff'],
      },
      {
        title: `a 0700 dir opened by u:${READER}:x and a 0710 dir of ${READER}'s supplementary group: served, exit 0`,
        apply: () => {
          fs.chmodSync(dir('shared/acl'), 0o700);
          setfacl('shared/acl', '-m', `u:${READER}:x`);
          fs.chmodSync(dir('shared/team'), 0o710);
          fs.lchownSync(dir('shared/team'), deploy.uid, teamGid);
        },
        refused: [],
        blocks: [],
      },
      {
        title: `the ACL-opened dir with its mask emptied (m::-): refused`,
        apply: () => {
          fs.chmodSync(dir('shared/acl'), 0o700);
          setfacl('shared/acl', '-m', `u:${READER}:x`);
          setfacl('shared/acl', '-m', 'm::-');
        },
        refused: ['acl/page.html'],
        blocks: ['shared/acl'],
      },
      {
        title: `0701 with u:${READER}:--- under a mask of --x: the named entry wins, refused`,
        apply: () => {
          fs.chmodSync(dir('shared/acl'), 0o701);
          setfacl('shared/acl', '-m', `u:${READER}:---,g::x`);
        },
        refused: ['acl/page.html'],
        blocks: ['shared/acl'],
      },
      {
        // Linux skips the ACL when the mask is empty (fs/namei.c acl_permission_check): the
        // "other" x lets www-data through, whatever POSIX.1e says of the named entry.
        title: `0701 with u:${READER}:--- and an empty mask: the kernel reads the other bits, served, exit 0`,
        apply: () => {
          fs.chmodSync(dir('shared/acl'), 0o701);
          setfacl('shared/acl', '-m', `u:${READER}:---`);
        },
        refused: [],
        blocks: [],
      },
    ];

    for (const s of SCENARIOS) {
      it(s.title, async () => {
        reset();
        s.apply();
        const status = new Map<string, number>();
        for (const page of PAGES) {
          const r = await get(server!.port, `/${page}`);
          status.set(page, r.status);
          // Every page exists: a refusal is a 403, never a 404 of a tree built wrong.
          expect([200, 403], `lighttpd GET /${page}\n${fs.readFileSync(server!.log, 'utf8')}`).toContain(r.status);
          if (r.status === 200) expect(r.body).toBe(content(page));
        }
        const statuses = [...status].map(([p, c]) => `${c} /${p}`).join(', ');
        const refused = PAGES.filter((p) => status.get(p) !== 200);
        // The ground truth is what the scenario means to set up; a server that disagrees (no ACL
        // support, groups not applied) would make the comparison below meaningless.
        expect(refused, `lighttpd: ${statuses}`).toEqual(s.refused);

        const { code, report, out } = linkcheck([app, '--root', jail, '--as-user', READER]);
        expect(report.asUser, out).toMatchObject({ user: READER, uid: reader.uid, gid: reader.gid });
        // The supplementary group is how www-data reaches the 0710 dir.
        expect((report.asUser?.groups ?? []).map(String), out).toEqual(expect.arrayContaining([String(teamGid)]));
        const noAccess = findingsOf(report, 'no-access');
        const flagged = new Set(noAccess.map((x) => x.link.path));
        const listing = `lighttpd: ${statuses}\nno-access: ${noAccess.map((x) => `${x.link.path}: ${x.finding.message}`).join('\n  ') || 'none'}\n${out}`;
        for (const page of PAGES) {
          const onPath = linksOnPath(jail, `${DOCROOT}/${page}`);
          expect(onPath.length, `links on /${page}`).toBeGreaterThan(0);
          expect(onPath.some((l) => flagged.has(l)), `/${page} (${status.get(page)}): links on its path ${onPath.join(', ')}\n${listing}`).toBe(status.get(page) !== 200);
        }
        expect(code, listing).toBe(refused.length > 0 ? 1 : 0);

        // Each message names the reader and a blocking directory with its mode and owner; each
        // blocking directory is named.
        const named = s.blocks.map((rel) => {
          const st = fs.statSync(dir(rel));
          const owner = `${nameOf('passwd', st.uid)}:${nameOf('group', st.gid)}`;
          return {
            rel,
            test: (m: string): boolean =>
              new RegExp(`(?:^|[\\s/'"\`(])${escapeRe(rel)}(?![\\w/.-])`).test(m) && new RegExp(`${escapeRe(modeString(st.mode))}\\+?\\s`).test(m) && m.includes(owner),
            want: `${rel} (${modeString(st.mode)} ${owner})`,
          };
        });
        for (const { link, finding } of noAccess) {
          expect(finding, link.path).toMatchObject({ code: 'LC011', severity: 'error' });
          expect(finding.message, link.path).toContain(READER);
          expect(
            named.some((n) => n.test(finding.message)),
            `${link.path}: "${finding.message}" names none of ${named.map((n) => n.want).join(', ')}`,
          ).toBe(true);
        }
        for (const n of named) expect(noAccess.some((x) => n.test(x.finding.message)), `no message names ${n.want}\n${listing}`).toBe(true);
      });
    }
  });

  describe('nginx disable_symlinks if_not_owner and Apache SymLinksIfOwnerMatch: the URLs they refuse and owner-mismatch', () => {
    let base = '';
    let site = '';
    let www = '';
    const servers: Server[] = [];
    /** server name -> URL -> status */
    const seen = new Map<string, Map<string, number>>();
    const urls: string[] = [];
    /** Served by every server (a control) and refused by every server (proof it reads as www-data). */
    const PLAIN = '/plain.html';
    const PROBE = '/private/probe.html';

    beforeAll(async () => {
      base = tempDir('reader-owner');
      // Neither server is chrooted: www-data walks the host path from /.
      fs.chmodSync(base, 0o755);
      site = `${base}/site`;
      www = `${site}/www`;
      const targets = `${site}/targets`;
      fs.mkdirSync(www, { recursive: true, mode: 0o755 });
      fs.mkdirSync(targets, { mode: 0o755 });
      const owners: Record<string, Account> = { root: { name: 'root', uid: 0, gid: 0 }, www: reader, third: deploy };
      const own = (p: string, who: string): void => fs.lchownSync(p, owners[who]!.uid, owners[who]!.gid);
      const link = (text: string, p: string, who: string): void => {
        fs.symlinkSync(text, p);
        own(p, who);
      };

      for (const t of Object.keys(owners)) {
        fs.writeFileSync(`${targets}/f-${t}.html`, `file of ${t}\n`, { mode: 0o644 });
        own(`${targets}/f-${t}.html`, t);
        fs.mkdirSync(`${targets}/d-${t}`, { mode: 0o755 });
        fs.writeFileSync(`${targets}/d-${t}/page.html`, `page in the dir of ${t}\n`, { mode: 0o644 });
        own(`${targets}/d-${t}`, t);
        own(`${targets}/d-${t}/page.html`, t);
      }
      for (const l of Object.keys(owners)) {
        for (const t of Object.keys(owners)) {
          link(`../targets/f-${t}.html`, `${www}/file-${l}-${t}.html`, l);
          link(`../targets/d-${t}`, `${www}/dir-${l}-${t}`, l);
          urls.push(`/file-${l}-${t}.html`, `/dir-${l}-${t}/page.html`);
        }
      }
      // Links inside a linked directory: each component of the request path counts.
      link('../f-root.html', `${targets}/d-www/inner-www-root.html`, 'www');
      link('../f-www.html', `${targets}/d-www/inner-www-www.html`, 'www');
      for (const l of Object.keys(owners)) urls.push(`/dir-${l}-www/inner-www-root.html`, `/dir-${l}-www/inner-www-www.html`);
      // Chains: owner of the first link against the hop's or against the end's.
      link('file-root-www.html', `${www}/chain-www-via-root.html`, 'www');
      link('file-www-www.html', `${www}/chain-root-via-www.html`, 'root');
      // A target that passes through a mismatched directory link.
      link('dir-root-www/page.html', `${www}/via-dir-root-www.html`, 'www');
      urls.push('/chain-www-via-root.html', '/chain-root-via-www.html', '/via-dir-root-www.html');
      fs.writeFileSync(`${www}/plain.html`, 'plain\n', { mode: 0o644 });
      fs.mkdirSync(`${www}/private`, { mode: 0o700 });
      fs.writeFileSync(`${www}/private/probe.html`, 'root only\n', { mode: 0o644 });

      const nginxDir = `${base}/nginx`;
      fs.mkdirSync(nginxDir);
      servers.push(
        await startServer('nginx', `${nginxDir}/out.log`, (port) => {
          fs.writeFileSync(
            `${nginxDir}/nginx.conf`,
            [
              'daemon off;',
              `user ${READER};`,
              `pid ${nginxDir}/nginx.pid;`,
              `error_log ${nginxDir}/error.log;`,
              'events { worker_connections 64; }',
              'http {',
              '  access_log off;',
              // The compiled-in temp paths are under /var/lib/nginx, which nginx would create and chown.
              ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${nginxDir}/${t};`),
              '  types { text/html html; }',
              '  server {',
              `    listen 127.0.0.1:${port};`,
              `    root ${www};`,
              '    disable_symlinks if_not_owner;',
              '  }',
              '}',
              '',
            ].join('\n'),
          );
          // -e: the error log before the config is read (the default is the system's).
          return { cmd: NGINX, args: ['-p', `${nginxDir}/`, '-c', `${nginxDir}/nginx.conf`, '-e', `${nginxDir}/error.log`] };
        }),
      );

      const apacheDir = `${base}/apache`;
      fs.mkdirSync(apacheDir);
      servers.push(
        await startServer('apache', `${apacheDir}/out.log`, (port) => {
          fs.writeFileSync(
            `${apacheDir}/httpd.conf`,
            [
              `ServerRoot ${apacheDir}`,
              ...['mpm_prefork', 'authz_core', 'dir', 'mime'].map((m) => `LoadModule ${m}_module ${APACHE_MODULES}/mod_${m}.so`),
              `Listen 127.0.0.1:${port}`,
              'ServerName 127.0.0.1',
              `User ${READER}`,
              `Group ${READER}`,
              `PidFile ${apacheDir}/httpd.pid`,
              `ErrorLog ${apacheDir}/error.log`,
              `Mutex file:${apacheDir} default`,
              `DefaultRuntimeDir ${apacheDir}`,
              'TypesConfig /dev/null',
              'AddType text/html .html',
              `DocumentRoot ${www}`,
              '<Directory />',
              '  Options SymLinksIfOwnerMatch',
              '  AllowOverride None',
              '  Require all granted',
              '</Directory>',
              '',
            ].join('\n'),
          );
          // -X: one process in the foreground; it still drops to User/Group (the probe shows it).
          return { cmd: APACHE, args: ['-X', '-f', `${apacheDir}/httpd.conf`] };
        }),
      );

      for (const s of servers) {
        const got = new Map<string, number>();
        for (const u of [PLAIN, PROBE, ...urls]) {
          const r = await get(s.port, u);
          got.set(u, r.status);
          if (r.status === 200) expect(r.body, `${s.name} ${u}`).toBe(fs.readFileSync(`${www}${u}`, 'utf8'));
        }
        seen.set(s.name, got);
      }
    });

    afterAll(async () => {
      for (const s of servers) await stopServer(s);
      removeDir(base);
    });

    const table = (): string =>
      urls.map((u) => `${[...seen].map(([n, m]) => `${n} ${m.get(u)}`).join(' ')}  ${u}  links: ${linksOnPath('/', `${www}${u}`).map((l) => l.slice(site.length + 1)).join(', ')}`).join('\n');

    it(`both servers read as ${READER}: a root-only directory is refused, a plain file served`, () => {
      for (const [name, got] of seen) {
        expect(got.get(PLAIN), name).toBe(200);
        expect(got.get(PROBE), name).toBe(403);
      }
    });

    it("refuse exactly the URLs through a link owned by someone else than its final target's owner (what their docs say, measured)", () => {
      // Every link of the tree is on some URL's path, so every link is judged below.
      const judged = new Set(urls.flatMap((u) => linksOnPath('/', `${www}${u}`)));
      expect([...links(site).keys()].filter((l) => !judged.has(l))).toEqual([]);
      for (const [name, got] of seen) {
        for (const u of urls) {
          const mismatch = linksOnPath('/', `${www}${u}`).some((l) => fs.lstatSync(l).uid !== fs.statSync(l).uid);
          expect([200, 403], `${name} ${u}`).toContain(got.get(u));
          expect(got.get(u) === 403, `${name} ${u}\n${table()}`).toBe(mismatch);
        }
      }
    });

    it('linkcheck --rule owner-mismatch=error flags a link on the path of exactly the refused URLs', () => {
      const { code, report, out } = linkcheck([site, '--root', '/', '--rule', 'owner-mismatch=error']);
      const hits = findingsOf(report, 'owner-mismatch');
      for (const { link, finding } of hits) expect(finding, link.path).toMatchObject({ code: 'LC012', severity: 'error' });
      const flagged = new Set(hits.map((x) => x.link.path));
      const listing = `${table()}\nflagged: ${[...flagged].map((l) => l.slice(site.length + 1)).join(', ') || 'none'}\n${out}`;
      for (const [name, got] of seen) {
        for (const u of urls) {
          const onPath = linksOnPath('/', `${www}${u}`);
          expect(onPath.some((l) => flagged.has(l)), `${name} ${got.get(u)} ${u}\n${listing}`).toBe(got.get(u) !== 200);
        }
      }
      expect(code, listing).toBe(1);
    });

    it('owner-mismatch is off by default; {"rules": {"owner-mismatch": "error"}} in a config file turns it on as the flag does', () => {
      const off = linkcheck([site, '--root', '/']);
      expect(findingsOf(off.report, 'owner-mismatch'), off.out).toEqual([]);
      expect(off.code, off.out).toBe(0);

      const config = `${base}/config.json`;
      fs.writeFileSync(config, JSON.stringify({ rules: { 'owner-mismatch': 'error' } }));
      const on = linkcheck([site, '--root', '/', '--config', config]);
      const flag = linkcheck([site, '--root', '/', '--rule', 'owner-mismatch=error']);
      const paths = (r: Report): string[] => findingsOf(r, 'owner-mismatch').map((x) => x.link.path).sort();
      expect(paths(on.report), on.out).toEqual(paths(flag.report));
      expect(paths(on.report).length, on.out).toBeGreaterThan(0);
      expect(on.code, on.out).toBe(1);
    });
  });
});
