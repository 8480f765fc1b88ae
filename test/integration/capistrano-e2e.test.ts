/**
 * The Capistrano tasks of contrib/capistrano/linkcheck.rake, run by the real Capistrano over SSH
 * into a chroot-style root, judged by the kernel from inside the jail.
 *
 * Our own sshd listens on 127.0.0.1 at a free high port (never the system's); Capistrano deploys
 * from a local git repository into <jail>/var/www/rails, as it would into /srv/lighty/var/www/rails,
 * and writes its absolute host links (`current`, `log`, `tmp/pids`, `public/system`). The tasks
 * repair them after deploy:symlink:release and check them before the app's restart, which runs
 * inside the jail (`chroot <jail> busybox sh`) and so works only when the links do. After each of
 * three deploys and a rollback a real `chroot` lists current/, current/log/ and current/tmp/pids/.
 * The journal shows Capistrano wrote `current` absolute every time (the repair was needed); a
 * deploy of a commit with a link nothing can repair fails before the restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { isRoot, links, removeDir, tempDir } from '../support/disk.js';
import { cliKnows, freePort, IN_CI, journalChanges, linkcheckCommand, missingCommand, run, waitForPort, which } from '../support/integration.js';
import { REPO } from '../support/repo.js';

const SSHD = '/usr/sbin/sshd';
const BUSYBOX = '/bin/busybox';
const APP = '/var/www/rails';
/** The host's chroot command (the jail has only /bin/busybox). */
const CHROOT = which('chroot') ?? 'chroot';

function missing(): string | null {
  if (process.platform !== 'linux') return `needs Linux chroot(2), this is ${process.platform}`;
  if (!isRoot()) return 'chroot(2) and an sshd of its own need root';
  return missingCommand(['cap', SSHD, 'ssh-keygen', 'git', 'chroot', BUSYBOX]);
}

const reason = missing();

if (reason !== null && IN_CI) {
  it('has the tools for the Capistrano end-to-end test (CI=true)', () => {
    throw new Error(`cannot run the Capistrano end-to-end test: ${reason}`);
  });
}

/** The jail's listing of `dir`, one name per line, by busybox inside a real chroot. */
function jailLs(jail: string, dir: string): string[] {
  const r = run(CHROOT, [jail, '/bin/busybox', 'ls', '-1', dir], { env: { PATH: '/bin' } });
  expect(r.code, `chroot ${jail} ls ${dir}: ${r.stderr}`).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '').sort();
}

function jailCat(jail: string, file: string): string {
  const r = run(CHROOT, [jail, '/bin/busybox', 'cat', file], { env: { PATH: '/bin' } });
  expect(r.code, `chroot ${jail} cat ${file}: ${r.stderr}`).toBe(0);
  return r.stdout;
}


describe.skipIf(reason !== null)(`Capistrano 3 deploys with the linkcheck tasks, over SSH into a chroot${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let base = '';
  let jail = '';
  let deployTo = '';
  let src = '';
  let project = '';
  let sshd: ChildProcess | null = null;
  let sshdLog = '';
  /** Revisions deployed so far, in order. */
  const revs: string[] = [];
  const withWait = cliKnows('--wait');

  const git = (...args: string[]): string => {
    const r = run('git', ['-c', 'user.name=Deployer', '-c', 'user.email=deploy@example.org', ...args], { cwd: src });
    expect(r.code, r.out).toBe(0);
    return r.stdout.trim();
  };

  /** Commits a new version of the app and returns its revision. */
  const commit = (n: number, extra: (dir: string) => void = () => {}): string => {
    fs.writeFileSync(`${src}/VERSION`, `${n}\n`);
    extra(src);
    git('add', '-A');
    git('commit', '-q', '-m', `version ${n}`);
    return git('rev-parse', 'HEAD');
  };

  const cap = (task: string) => {
    const t0 = Date.now();
    const r = run(which('cap')!, ['production', task], {
      cwd: project,
      env: { PATH: process.env.PATH, HOME: `${base}/home`, LANG: 'C.UTF-8' },
      timeout: 60_000,
    });
    return { ...r, ms: Date.now() - t0 };
  };

  /** The release directory `current` names, checked to be a relative link first. */
  const liveRelease = (): string => {
    const text = fs.readlinkSync(`${deployTo}/current`);
    expect(text, 'current after the repair').toMatch(/^releases\/\d{14}$/);
    return `${deployTo}/${text}`;
  };

  /** Journal entries that rewrote `current` from Capistrano's absolute host path. */
  const absoluteCurrentRepairs = (): number =>
    journalChanges(`${deployTo}/shared/linkcheck.journal`).filter(
      (e) => e.path === `${deployTo}/current` && e.old.startsWith(`${deployTo}/releases/`) && !e.new.startsWith('/'),
    ).length;

  /** What the jail sees after a deploy or rollback that made `rev` live; `restarts` so far. */
  const expectJailServes = (rev: string, restarts: number): void => {
    const release = liveRelease();
    // Every link of the live release is relative now; Capistrano wrote them all absolute.
    for (const [p, t] of links(release)) expect(t.startsWith('/'), `${p} -> ${t}`).toBe(false);
    expect(jailLs(jail, `${APP}/current/`)).toEqual(fs.readdirSync(release).sort());
    expect(jailLs(jail, `${APP}/current/`)).toEqual(expect.arrayContaining(['REVISION', 'VERSION', 'app', 'log', 'public', 'tmp']));
    expect(jailCat(jail, `${APP}/current/REVISION`).trim()).toBe(rev);
    expect(jailLs(jail, `${APP}/current/log/`)).toEqual(['production.log']);
    // The restart ran inside the jail after the check, once per deploy or rollback.
    const log = jailCat(jail, `${APP}/current/log/production.log`).trim().split('\n');
    expect(log).toHaveLength(restarts);
    expect(log.at(-1)).toBe(`restarted ${rev}`);
    expect(jailLs(jail, `${APP}/current/tmp/pids/`)).toEqual(['app.pid']);
    expect(jailLs(jail, `${APP}/current/public/system/`)).toEqual([]);
  };

  beforeAll(async () => {
    ensureBuilt();
    base = tempDir('capistrano-e2e');
    jail = `${base}/jail`;
    deployTo = `${jail}${APP}`;
    src = `${base}/src`;
    project = `${base}/deployer`;
    fs.mkdirSync(`${jail}/bin`, { recursive: true });
    fs.mkdirSync(deployTo, { recursive: true });
    fs.copyFileSync(BUSYBOX, `${jail}/bin/busybox`);
    fs.chmodSync(`${jail}/bin/busybox`, 0o755);
    fs.mkdirSync(`${base}/home`);
    const bin = linkcheckCommand(`${base}/bin`);

    // The app: a tiny Rails-shaped tree in a git repository Capistrano clones by path.
    fs.mkdirSync(src);
    run('git', ['init', '-q', '-b', 'main', src]);
    fs.mkdirSync(`${src}/app/controllers`, { recursive: true });
    fs.mkdirSync(`${src}/config`);
    fs.mkdirSync(`${src}/public`);
    fs.writeFileSync(`${src}/app/controllers/application.rb`, 'class ApplicationController; end\n');
    fs.writeFileSync(`${src}/config/routes.rb`, '');
    fs.writeFileSync(`${src}/public/index.html`, '<h1>It works</h1>\n');

    // Our own sshd: host key, client key and config in the temp dir, a port picked now.
    const ssh = `${base}/ssh`;
    fs.mkdirSync(ssh, { mode: 0o700 });
    for (const k of ['host_key', 'client_key']) expect(run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${ssh}/${k}`]).code).toBe(0);
    fs.copyFileSync(`${ssh}/client_key.pub`, `${ssh}/authorized_keys`);
    // sshd insists on its privilege separation directory (the packaged service creates it at boot).
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    sshdLog = `${ssh}/sshd.log`;
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      const config = `${ssh}/sshd_config`;
      fs.writeFileSync(
        config,
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${ssh}/host_key`,
          `PidFile ${ssh}/sshd.pid`,
          `AuthorizedKeysFile ${ssh}/authorized_keys`,
          'AllowUsers root',
          'PermitRootLogin prohibit-password',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          // The keys sit under the world-writable /tmp, which strict modes refuse.
          'StrictModes no',
          'PrintMotd no',
          'LogLevel ERROR',
          '',
        ].join('\n'),
      );
      const out = fs.openSync(sshdLog, 'a');
      const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', out, out] });
      fs.closeSync(out);
      let exited = false;
      child.on('exit', () => (exited = true));
      sshd = child;
      try {
        await waitForPort(port, 10_000, () => !exited, 'sshd');
        break;
      } catch (err) {
        // Someone took the port between our probe and sshd's bind: try another.
        child.kill('SIGKILL');
        if (attempt === 2) throw new Error(`our sshd did not start: ${String(err)}\n${fs.readFileSync(sshdLog, 'utf8')}`);
      }
    }

    // The deploy project: a Capfile as `cap install` writes it, the tasks copied in as the README says.
    fs.mkdirSync(`${project}/config/deploy`, { recursive: true });
    fs.mkdirSync(`${project}/lib/capistrano/tasks`, { recursive: true });
    fs.copyFileSync(`${REPO}/contrib/capistrano/linkcheck.rake`, `${project}/lib/capistrano/tasks/linkcheck.rake`);
    fs.writeFileSync(
      `${project}/Capfile`,
      [
        "require 'capistrano/setup'",
        "require 'capistrano/deploy'",
        "require 'capistrano/scm/git'",
        'install_plugin Capistrano::SCM::Git',
        "Dir.glob('lib/capistrano/tasks/*.rake').each { |r| import r }",
        '',
      ].join('\n'),
    );
    const restart = `/bin/busybox cat ${APP}/current/REVISION | /bin/busybox sed 's/^/restarted /' >> ${APP}/current/log/production.log && echo 4711 > ${APP}/current/tmp/pids/app.pid`;
    fs.writeFileSync(
      `${project}/config/deploy.rb`,
      [
        "set :application, 'rails'",
        `set :repo_url, ${JSON.stringify(src)}`,
        "set :branch, 'main'",
        `set :deploy_to, ${JSON.stringify(deployTo)}`,
        "set :linked_dirs, %w[log tmp/pids public/system]",
        'set :keep_releases, 5',
        'set :format, :pretty',
        'set :log_level, :info',
        `set :linkcheck_root, ${JSON.stringify(jail)}`,
        `set :linkcheck_bin, ${JSON.stringify(bin)}`,
        // This build has no lock yet: the rest of the command is the same.
        ...(withWait ? [] : ['set :linkcheck_wait, nil']),
        'namespace :deploy do',
        "  desc 'Restart the app inside its jail'",
        '  task :restart do',
        '    on roles(:app) do',
        `      execute ${JSON.stringify(`${CHROOT} ${jail} /bin/busybox sh -c ${shellQuote(restart)}`)}`,
        '    end',
        '  end',
        'end',
        "after 'deploy:publishing', 'deploy:restart'",
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      `${project}/config/deploy/production.rb`,
      [
        "server '127.0.0.1', user: 'root', roles: %w[app web]",
        `set :ssh_options, { port: ${port}, keys: [${JSON.stringify(`${ssh}/client_key`)}], keys_only: true, auth_methods: %w[publickey],`,
        "  verify_host_key: :never, user_known_hosts_file: '/dev/null', global_known_hosts_file: '/dev/null', config: false, use_agent: false, timeout: 10 }",
        '',
      ].join('\n'),
    );
  });

  afterAll(() => {
    if (sshd && sshd.exitCode === null) sshd.kill('SIGTERM');
    removeDir(base);
  });

  it(`three deploys and a rollback: the jail serves each release${withWait ? '' : ' (this build has no --wait: the tasks run without it)'}`, () => {
    const timings: number[] = [];
    for (let n = 1; n <= 3; n++) {
      revs.push(commit(n));
      const r = cap('deploy');
      timings.push(r.ms);
      expect(r.code, `cap production deploy #${n}:\n${r.out}\nsshd: ${fs.readFileSync(sshdLog, 'utf8')}`).toBe(0);
      // Both tasks ran, in this order, between the switch of `current` and the restart.
      const order = ['mv ', ' --fix --fail-on never ', ' --exclude releases/', `${CHROOT} `].map((s) => r.out.indexOf(s));
      expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)), `${order.join(' ')}\n${r.out}`).toBe(true);
      expectJailServes(revs[n - 1]!, n);
      // Capistrano wrote `current` as an absolute host path again, and the repair fixed it.
      expect(absoluteCurrentRepairs()).toBe(n);
    }

    const back = cap('deploy:rollback');
    timings.push(back.ms);
    expect(back.code, `cap production deploy:rollback:\n${back.out}`).toBe(0);
    expectJailServes(revs[1]!, 4);
    expect(absoluteCurrentRepairs()).toBe(4);
    // The rolled-back release is gone, as Capistrano does it; the two older ones stay.
    expect(fs.readdirSync(`${deployTo}/releases`)).toHaveLength(2);
    console.log(`cap runs (ms): ${timings.join(', ')}`);
    // Four cap runs of 9-16 s each on a busy machine: 57 s seen, against vitest's default 60 s.
  }, 300_000);

  it('a release with a link nothing can repair fails the deploy before the restart', () => {
    expect(revs, 'runs after the three deploys above').toHaveLength(3);
    // Absolute and dangling in both views: --fix must leave it, the check must refuse it.
    commit(4, (dir) => fs.symlinkSync('/nonexistent/uploads', `${dir}/public/uploads`));
    const r = cap('deploy');
    expect(r.code, r.out).not.toBe(0);
    // It is the check that stopped it, naming the link.
    expect(r.out).toMatch(/Tasks: TOP => linkcheck:check/);
    expect(r.out).toMatch(/--exclude releases\/.* exit status: 1/);
    expect(r.out).toMatch(/releases\/\d{14}\/public\/uploads/);
    // The restart did not run: the log still has the four lines of the earlier runs.
    expect(fs.readFileSync(`${deployTo}/shared/log/production.log`, 'utf8').trim().split('\n')).toHaveLength(4);

    // The way back: a rollback makes the last good release live again and restarts it.
    const back = cap('deploy:rollback');
    expect(back.code, back.out).toBe(0);
    expectJailServes(revs[1]!, 5);

    // The check alone, as an operator runs it: with no release being deployed it finds the live
    // release through `current`.
    const alone = cap('linkcheck:check');
    expect(alone.code, alone.out).toBe(0);
    // (The log shows the shell-escaped pattern, its backslashes doubled or not.)
    expect(alone.out).toMatch(new RegExp(`--exclude releases/\\\\*!\\\\*\\(${path.basename(liveRelease())}\\\\*\\)`));

  }, 300_000);
});

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
