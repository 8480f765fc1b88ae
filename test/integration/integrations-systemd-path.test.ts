/**
 * A real systemd runs the shipped linkcheck-repair.path and .service, byte for byte, and the path
 * unit starts the repair the moment a Capistrano-style deploy switches `current`.
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
 * in the release `current` pointed to (inotify follows the link), but not when the deploy renames
 * a new `current` over it: that is why the shipped unit watches the directory.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, isRoot, links, sleep } from '../fix/helpers.js';
import { IN_CI, REPO, type StoryCopy, cliKnows, linkcheckCommand, missingCommand, run, storyCopy } from './integrations-helpers.js';

const SYSTEMD = '/lib/systemd/systemd';
const TREE = '/srv/lighty/var/www/rails';

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
  const tool = missingCommand([SYSTEMD, 'unshare', 'mount']);
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

/** Runs in the new mount namespace: moves into a cgroup of its own, then boots systemd as PID 1. */
const BOOT = `
set -eu
base=$1 cg=$2 story=$3
mkdir "$cg"
echo $$ > "$cg/cgroup.procs"
exec unshare --pid --fork --cgroup --mount-proc sh -c '
set -eu
base=$1 story=$2
mount -t tmpfs tmpfs /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /run
for d in /usr/lib/systemd/system /usr/lib/systemd/system-generators /etc/systemd/system /etc/default /usr/local/bin /var/lib /srv; do
  [ -d "$d" ] && mount -t tmpfs tmpfs "$d"
done
cp -r "$base/units/." /etc/systemd/system/
cp "$base/default" /etc/default/linkcheck
cp "$base/linkcheck" /usr/local/bin/linkcheck
mkdir -p /srv/lighty && mount --bind "$story/srv/lighty" /srv/lighty
exec env -i container=linkcheck-test ${SYSTEMD} --system --unit=lc-test.target --log-target=console --show-status=no
' sh "$base" "$story"
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
  const journal = (): Array<{ path: string; old: string; new: string }> => {
    const file = inside('/var/lib/linkcheck/journal');
    if (!fs.existsSync(file)) return [];
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { path: string; old: string; new: string })
      .filter((e) => typeof e.path === 'string');
  };

  /** What systemd inside says about the units, for a failure message. */
  const status = (): string => {
    if (!systemdPid) return '(systemd not started)';
    const r = spawnSync('nsenter', ['-t', String(systemdPid), '-m', '-p', 'systemctl', 'status', '--no-pager', '-l', 'linkcheck-repair.path', 'linkcheck-repair.service', 'lc-current.path', 'lc-current.service'], { encoding: 'utf8' });
    const log = fs.existsSync(`${base}/service.log`) ? fs.readFileSync(`${base}/service.log`, 'utf8') : '(no output)';
    return `${r.stdout}${r.stderr}\nthe repair printed:\n${log}`;
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
    for (const name of ['linkcheck-repair.service', 'linkcheck-repair.path']) fs.copyFileSync(`${REPO}/contrib/systemd/${name}`, `${base}/units/${name}`);
    const exec = /^ExecStart=(.*)$/m.exec(fs.readFileSync(`${base}/units/linkcheck-repair.service`, 'utf8'))![1]!;
    fs.mkdirSync(`${base}/units/linkcheck-repair.service.d`);
    for (const [name, text] of Object.entries(testUnits(base, withWait ? '' : exec.replace(/ --wait \d+/, '')))) fs.writeFileSync(`${base}/units/${name}`, text);
    fs.copyFileSync(`${REPO}/contrib/systemd/linkcheck.default`, `${base}/default`);
    // No LINKCHECK_LOCK_DIR: in there the lock goes to /run/linkcheck as in production (a tmpfs
    // only this systemd sees), which RuntimeDirectory= must make writable.
    linkcheckCommand(base, null);
    fs.writeFileSync(`${base}/boot.sh`, BOOT);
    cgroup = `${ownCgroup2()}/linkcheck-test-${process.pid}`;

    // The story's links start out repaired: the switch below is the only thing to do.
    const pre = spawn(process.execPath, [BIN, story.tree, '--root', `${story.base}/srv/lighty`, '--fix', '--quiet']);
    await new Promise((r) => pre.on('close', r));
    for (const [p, t] of links(story.tree)) expect(t.startsWith('/'), `${p} -> ${t}`).toBe(false);

    boot = spawn('unshare', ['--mount', '--uts', '--ipc', '--net', '--propagation', 'private', 'sh', `${base}/boot.sh`, base, cgroup, story.base], {
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
    // The repair is a oneshot that has finished by now, so its PrivateTmp is gone: kill at once.
    if (systemdPid) process.kill(systemdPid, 'SIGKILL');
    if (boot && boot.exitCode === null) await new Promise((r) => boot!.on('close', r));
    if (cgroup && fs.existsSync(cgroup)) {
      const dirs: string[] = [];
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(`${d}/${e.name}`);
        dirs.push(d);
      };
      walk(cgroup);
      for (const d of dirs) fs.rmdirSync(d);
    }
    story?.cleanup();
  });

  it(`a deploy renames a new \`current\` into place: the repair runs at once and fixes it${withWait ? '' : ' (this build has no --wait: a drop-in runs without it)'}`, async () => {
    const s = story!;
    // Capistrano's deploy:symlink:release with the host paths it writes (inside the namespace the
    // jail is at /srv/lighty, as on a real host): a new release with its shared log linked
    // absolutely, `ln -s <release> releases/current`, `mv releases/current <deploy_to>`.
    const release = `${s.tree}/releases/20261201000000`;
    fs.mkdirSync(`${release}/public`, { recursive: true });
    fs.writeFileSync(`${release}/REVISION`, '4712\n');
    fs.symlinkSync(`${TREE}/shared/log`, `${release}/log`);
    fs.symlinkSync(`${TREE}/releases/20261201000000`, `${s.tree}/releases/current`);
    expect(journal()).toEqual([]);
    const t0 = Date.now();
    fs.renameSync(`${s.tree}/releases/current`, `${s.tree}/current`);

    const ms = await waitFor('the path unit starts the repair and it fixes current', 20_000, () =>
      journal().some((e) => e.path === `${TREE}/current` && e.new === 'releases/20261201000000'),
    );
    console.log(`repair of current landed ${ms} ms after the switch (${Date.now() - t0} ms)`);
    expect(fs.readlinkSync(`${s.tree}/current`)).toBe('releases/20261201000000');
    await waitFor('the release log link is fixed too', 10_000, () => !fs.readlinkSync(`${release}/log`).startsWith('/'));
    expect(fs.readlinkSync(`${release}/log`)).toBe('../../shared/log');
    // The old `current` text was the host path Capistrano writes.
    expect(journal().find((e) => e.path === `${TREE}/current`)?.old).toBe(`${TREE}/releases/20261201000000`);

    // The control on `current` itself stayed silent through the switch and the repair...
    await sleep(1500);
    expect(fs.existsSync(`${base}/current-watch`), 'PathChanged=<current> fired on the rename').toBe(false);
    // ...though it does watch: it fires for a file created in the release `current` leads to.
    fs.writeFileSync(`${s.tree}/current/touched`, '');
    await waitFor('the control path unit fires', 10_000, () => fs.existsSync(`${base}/current-watch`));
  });
});
