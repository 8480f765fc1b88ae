/**
 * A real systemd runs the shipped linkcheck-repair.path, .service and .timer, byte for byte, and
 * the path unit starts the repair the moment a Capistrano-style deploy switches `current`.
 *
 * systemd is not PID 1 on a test machine (and must not be disturbed where it is), so the test boots
 * one as PID 1 of its own PID, mount, UTS, IPC, network and cgroup namespaces, in a cgroup v2
 * subtree of its own. Inside, tmpfs mounts give it only this test's units (vendor units and
 * generators hidden: nothing else starts, no tmpfiles cleaning), /etc/default/linkcheck from
 * contrib, a /usr/local/bin/linkcheck that runs the built CLI, a fresh /var/lib, and the story's
 * jail bind-mounted at /srv/lighty — the paths the units name, so they run unchanged, hardening
 * included (ProtectSystem=strict, PrivateTmp, PrivateNetwork, the capability bounding set...).
 *
 * Control: a second path unit with PathChanged= on `current` itself. It fires when a file appears
 * in the release `current` leads to, but not when a deploy renames a new `current` over it: that
 * is why the shipped unit watches the directory. Last, a burst of deploys must not trip the
 * service's start limit, which would silence the path unit for good.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELEASE } from '../../fixtures/capistrano.js';
import { ensureBuilt } from '../support/build.js';
import { isRoot, links, sleep } from '../support/disk.js';
import { cliKnows, IN_CI, journalChanges, missingCommand, run, storyCopy, type StoryCopy } from '../support/integration.js';
import { REPO } from '../support/repo.js';

const SYSTEMD = '/lib/systemd/systemd';
const TREE = '/srv/lighty/var/www/rails';
/** The release a test deploy adds beside the story's own. */
const NEW = '20261201000000';

/** The cgroup v2 directory this process sits in, or null without a cgroup2 mount. */
function ownCgroup2(): string | null {
  const mount = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[f.indexOf('-') + 1] === 'cgroup2');
  const own = /^0::(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  if (!mount || !own) return null;
  return `${mount[4]}${own[1] === '/' ? '' : own[1]}`;
}

function missing(): string | null {
  if (process.platform !== 'linux') return `needs Linux namespaces, this is ${process.platform}`;
  if (!isRoot()) return 'booting a systemd in namespaces needs root';
  const tool = missingCommand([SYSTEMD, 'unshare', 'nsenter', 'mount']);
  if (tool) return tool;
  if (!ownCgroup2()) return 'no cgroup2 hierarchy mounted';
  const probe = run('unshare', ['--mount', '--uts', '--ipc', '--net', '--pid', '--fork', '--cgroup', 'true']);
  if (probe.code !== 0) return `the kernel refuses new namespaces here: ${probe.stderr.trim()}`;
  return null;
}

const reason = missing();

if (reason !== null && IN_CI) {
  it('has systemd and unshare (CI=true)', () => {
    throw new Error(`cannot run a real systemd: ${reason}`);
  });
}

/**
 * Units only this test adds: a target that starts the watches, a readiness mark, the control,
 * and a drop-in that sends the repair's output to a file (no journald runs in there) and, on a
 * build without the lock, takes `--wait` out of ExecStart.
 */
function testUnits(base: string, execStart: string): Record<string, string> {
  const noDeps = '[Unit]\nDefaultDependencies=no\n';
  const stub = (what: string) => `[Unit]\nDescription=${what} (empty in this test's systemd)\nDefaultDependencies=no\n`;
  return {
    'lc-test.target': `${noDeps}Wants=linkcheck-repair.path lc-current.path lc-ready.service\n`,
    'lc-ready.service': `${noDeps}After=linkcheck-repair.path lc-current.path\n[Service]\nType=oneshot\nExecStart=/bin/touch ${base}/ready\n`,
    'lc-current.path': `${noDeps}[Path]\nPathChanged=${TREE}/current\nUnit=lc-current.service\n`,
    'lc-current.service': `${noDeps}[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo fired >> ${base}/current-watch'\n`,
    'linkcheck-repair.service.d/test.conf': `[Service]\nStandardOutput=append:${base}/service.log\nStandardError=append:${base}/service.log\n${
      execStart ? `ExecStart=\nExecStart=${execStart}\n` : ''
    }`,
    // The shipped units keep their default dependencies: these targets stand in for the vendor ones.
    'sysinit.target': stub('System initialisation'),
    'basic.target': stub('Basic system'),
    'paths.target': stub('Path units'),
    'timers.target': stub('Timer units'),
    'sockets.target': stub('Socket units'),
    'shutdown.target': stub('Shutdown'),
  };
}

/**
 * Runs in the new mount namespace: moves into a cgroup of its own, then boots systemd as PID 1.
 * Node and this checkout are bind-mounted under /run/linkcheck-test first: the units hide
 * /usr/local/bin and the service's PrivateTmp hides /tmp, where either may live.
 */
const BOOT = `
set -eu
base=$1 cg=$2 story=$3 node=$4 repo=$5
mkdir "$cg"
echo $$ > "$cg/cgroup.procs"
exec unshare --pid --fork --cgroup --mount-proc sh -c '
set -eu
base=$1 story=$2 node=$3 repo=$4
mount -t tmpfs tmpfs /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /run
mkdir -p /run/linkcheck-test/repo && touch /run/linkcheck-test/node
mount --bind "$node" /run/linkcheck-test/node && mount --bind "$repo" /run/linkcheck-test/repo
for d in /usr/lib/systemd/system /usr/lib/systemd/system-generators /etc/systemd/system /etc/default /usr/local/bin /var/lib /srv; do
  [ -d "$d" ] && mount -t tmpfs tmpfs "$d"
done
cp -r "$base/units/." /etc/systemd/system/
cp "$base/default" /etc/default/linkcheck
cp "$base/linkcheck" /usr/local/bin/linkcheck
mkdir -p /srv/lighty && mount --bind "$story/srv/lighty" /srv/lighty
exec env -i container=linkcheck-test ${SYSTEMD} --system --unit=lc-test.target --log-target=console --show-status=no
' sh "$base" "$story" "$node" "$repo"
`;

describe.skipIf(reason !== null)(`a real systemd runs linkcheck-repair.path and .service${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let story: StoryCopy | null = null;
  let base = '';
  let cgroup = '';
  let boot: ChildProcess | null = null;
  let systemdPid = 0;
  let bootLog = '';
  const withWait = cliKnows('--wait');

  /** The file at `p` inside the namespace (its /var/lib is a tmpfs only it sees). */
  const inside = (p: string): string => `/proc/${systemdPid}/root${p}`;

  /** The journal's entries, as the repair inside wrote them. */
  const journal = () => journalChanges(inside('/var/lib/linkcheck/journal'));

  /** systemctl in the namespace: what it prints. */
  const systemctl = (...args: string[]): string =>
    spawnSync('nsenter', ['-t', String(systemdPid), '-m', '-p', 'systemctl', ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }).stdout?.trim() ?? '';

  /** What systemd inside says about the units, for a failure message. */
  const status = (): string => {
    if (!systemdPid) return '(systemd not started)';
    const units = systemctl('status', '--no-pager', '-l', 'linkcheck-repair.path', 'linkcheck-repair.service', 'lc-current.path', 'lc-current.service');
    const log = fs.existsSync(`${base}/service.log`) ? fs.readFileSync(`${base}/service.log`, 'utf8') : '(no output)';
    return `${units}\nthe repair printed:\n${log}`;
  };

  const waitFor = async (what: string, ms: number, done: () => boolean): Promise<number> => {
    const t0 = Date.now();
    while (!done()) {
      if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms\n${bootLog}\n${status()}`);
      await sleep(20);
    }
    return Date.now() - t0;
  };

  beforeAll(async () => {
    ensureBuilt();
    story = storyCopy('systemd-path');
    base = `${story.base}/systemd`;
    fs.mkdirSync(`${base}/units`, { recursive: true });
    for (const name of ['linkcheck-repair.service', 'linkcheck-repair.path', 'linkcheck-repair.timer']) fs.copyFileSync(`${REPO}/contrib/systemd/${name}`, `${base}/units/${name}`);
    const exec = /^ExecStart=(.*)$/m.exec(fs.readFileSync(`${base}/units/linkcheck-repair.service`, 'utf8'))![1]!;
    fs.mkdirSync(`${base}/units/linkcheck-repair.service.d`);
    for (const [name, text] of Object.entries(testUnits(base, withWait ? '' : exec.replace(/ --wait \d+/, '')))) fs.writeFileSync(`${base}/units/${name}`, text);
    fs.copyFileSync(`${REPO}/contrib/systemd/linkcheck.default`, `${base}/default`);
    fs.writeFileSync(`${base}/boot.sh`, BOOT);
    // The installed command, as the namespace sees node and this checkout (see BOOT).
    fs.writeFileSync(`${base}/linkcheck`, '#!/bin/sh\nexec /run/linkcheck-test/node /run/linkcheck-test/repo/bin/linkcheck.js "$@"\n', { mode: 0o755 });
    cgroup = `${ownCgroup2()}/linkcheck-test-${process.pid}`;

    // The story's links start out repaired: the switch below is the only thing to do.
    const pre = spawn(`${story.bin}/linkcheck`, [story.tree, '--root', `${story.base}/srv/lighty`, '--fix', '--quiet']);
    await new Promise((r) => pre.on('close', r));
    for (const [p, t] of links(story.tree)) expect(t.startsWith('/'), `${p} -> ${t}`).toBe(false);

    // No LINKCHECK_LOCK_DIR in there: the lock goes to /run/linkcheck as in production (a tmpfs
    // only this systemd sees), which RuntimeDirectory= must make writable under ProtectSystem=strict.
    const args = [`${base}/boot.sh`, base, cgroup, story.base, fs.realpathSync(process.execPath), REPO];
    boot = spawn('unshare', ['--mount', '--uts', '--ipc', '--net', '--propagation', 'private', 'sh', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    boot.stdout!.on('data', (d: Buffer) => (bootLog += d.toString()));
    boot.stderr!.on('data', (d: Buffer) => (bootLog += d.toString()));
    const outer = boot.pid!;
    await waitFor('systemd starts', 10_000, () => {
      const kids = fs.existsSync(`/proc/${outer}/task/${outer}/children`) ? fs.readFileSync(`/proc/${outer}/task/${outer}/children`, 'utf8').trim() : '';
      systemdPid = Number(kids.split(' ')[0] ?? 0);
      return systemdPid > 0 && fs.readlinkSync(`/proc/${systemdPid}/exe`).endsWith('/systemd');
    });
    await waitFor('the path units watch', 15_000, () => fs.existsSync(`${base}/ready`));
  });

  afterAll(async () => {
    // Let the last repair end first: systemd removes its PrivateTmp directory when it stops.
    if (systemdPid) {
      systemctl('stop', 'linkcheck-repair.timer', 'linkcheck-repair.path', 'lc-current.path');
      await idle().catch(() => {});
      await sleep(200);
      process.kill(systemdPid, 'SIGKILL');
    }
    if (boot && boot.exitCode === null) await new Promise((r) => boot!.on('close', r));
    if (cgroup && fs.existsSync(cgroup)) {
      const dirs: string[] = [];
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(`${d}/${e.name}`);
        dirs.push(d);
      };
      walk(cgroup);
      // The namespace's last processes may take a moment to go after its init is killed.
      for (const d of dirs) {
        for (let i = 0; ; i++) {
          try {
            fs.rmdirSync(d);
            break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || i === 50) throw err;
            await sleep(100);
          }
        }
      }
    }
    story?.cleanup();
  });

  /** Capistrano's deploy:symlink:release: `ln -s <release> releases/current && mv releases/current <deploy_to>`. */
  const switchTo = (release: string): void => {
    const s = story!;
    fs.symlinkSync(`${TREE}/releases/${release}`, `${s.tree}/releases/current`);
    fs.renameSync(`${s.tree}/releases/current`, `${s.tree}/current`);
  };

  /**
   * Waits until no repair runs. A switch made while one runs starts no second run (systemd merges
   * the start into the running one), so each step of these tests begins with the service idle.
   */
  const idle = () => waitFor('the repair service goes idle', 20_000, () => !['activating', 'deactivating', 'reloading'].includes(systemctl('is-active', 'linkcheck-repair.service')));

  /** How often the control unit (PathChanged= on `current` itself) has started its service. */
  const controlFired = (): number => (fs.existsSync(`${base}/current-watch`) ? fs.readFileSync(`${base}/current-watch`, 'utf8').split('\n').length - 1 : 0);

  it(`a deploy renames a new \`current\` into place: the repair runs at once and fixes it${withWait ? '' : ' (this build has no --wait: a drop-in runs without it)'}`, async () => {
    const s = story!;
    // A new release with its shared log linked absolutely, as Capistrano writes it with the host
    // paths (inside the namespace the jail is at /srv/lighty, as on a real host).
    const release = `${s.tree}/releases/${NEW}`;
    fs.mkdirSync(`${release}/public`, { recursive: true });
    fs.writeFileSync(`${release}/REVISION`, '4712\n');
    fs.symlinkSync(`${TREE}/shared/log`, `${release}/log`);
    expect(journal()).toEqual([]);
    const t0 = Date.now();
    switchTo(NEW);

    const ms = await waitFor('the path unit starts the repair and it fixes current', 20_000, () =>
      journal().some((e) => e.path === `${TREE}/current` && e.new === `releases/${NEW}`),
    );
    console.log(`repair of current landed ${ms} ms after the switch (${Date.now() - t0} ms)`);
    expect(fs.readlinkSync(`${s.tree}/current`)).toBe(`releases/${NEW}`);
    await waitFor('the release log link is fixed too', 10_000, () => !fs.readlinkSync(`${release}/log`).startsWith('/'));
    expect(fs.readlinkSync(`${release}/log`)).toBe('../../shared/log');
    // The old `current` text was the host path Capistrano writes.
    expect(journal().find((e) => e.path === `${TREE}/current`)?.old).toBe(`${TREE}/releases/${NEW}`);
  });

  it('PathChanged= on `current` itself misses the switch (control), though it watches', async () => {
    const s = story!;
    // Let the earlier steps' runs, the control's among them, finish before counting.
    await idle();
    let before = controlFired();
    for (let still = 0; still < 10; still++) {
      await sleep(100);
      const now = controlFired();
      if (now !== before) {
        before = now;
        still = 0;
      }
    }
    const repairs = journal().length;
    // Back to the older release, whose own links are fixed: the repair only renames `current`.
    switchTo(RELEASE);
    await waitFor('the repair of the switch back', 20_000, () => journal().length > repairs && !fs.readlinkSync(`${s.tree}/current`).startsWith('/'));
    await sleep(1500);
    expect(controlFired(), 'PathChanged=<current> started its service on the rename').toBe(before);
    // It does watch: a file created in the release `current` leads to starts it.
    fs.writeFileSync(`${s.tree}/current/touched`, '');
    await waitFor('the control path unit fires', 10_000, () => controlFired() > before);
  });

  it("a burst of deploys stays under the service's start limit: the path unit keeps watching", async () => {
    const s = story!;
    // Eight switches in two seconds start the service well over systemd's default limit of 5 in
    // 10 s, which would fail it and the path unit with it (the unit sets 20 a minute).
    for (let i = 0; i < 8; i++) {
      switchTo(i % 2 === 0 ? NEW : RELEASE);
      await sleep(250);
    }
    await idle();
    const repairs = journal().length;
    switchTo(NEW);
    await waitFor('the repair after the burst', 20_000, () => journal().length > repairs && fs.readlinkSync(`${s.tree}/current`) === `releases/${NEW}`);
  });

  it('the units enable as the docs say, and the timer arms for the next quarter hour', async () => {
    systemctl('enable', 'linkcheck-repair.timer', 'linkcheck-repair.path');
    expect(systemctl('is-enabled', 'linkcheck-repair.timer', 'linkcheck-repair.path')).toBe('enabled\nenabled');
    expect(systemctl('start', 'linkcheck-repair.timer')).toBe('');
    const show = Object.fromEntries(
      systemctl('show', 'linkcheck-repair.timer', '-p', 'ActiveState', '-p', 'Triggers', '-p', 'NextElapseUSecRealtime')
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(show.ActiveState).toBe('active');
    expect(show.Triggers).toBe('linkcheck-repair.service');
    // OnCalendar=*:0/15 plus up to RandomizedDelaySec=60.
    const at = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC$/.exec(show.NextElapseUSecRealtime ?? '');
    expect(at, `NextElapseUSecRealtime=${show.NextElapseUSecRealtime}`).not.toBeNull();
    const next = Date.parse(`${at![1]}T${at![2]}Z`);
    expect(next - Date.now()).toBeGreaterThan(-1000);
    expect(next - Date.now()).toBeLessThanOrEqual((15 * 60 + 60) * 1000);
    // OnBootSec= may already lie in the past and start a repair at once: let it end.
    await idle();
  });
});
