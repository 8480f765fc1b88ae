/**
 * --preset deploy and allow entries on the Capistrano story after a fresh deploy: `current` is
 * a host-absolute link and shared/pids does not exist yet (the app server makes it on its first
 * start), so releases/<r>/tmp/pids dangles. On a real disk, through the CLI in-process.
 */
import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { APP, capistrano, JAIL, RELEASE } from '../../fixtures/capistrano.js';
import { runCliInProcess } from '../support/cli.js';
import { diskSandbox, type Sandbox } from '../support/sandbox.js';

interface Doc {
  links: Array<{ path: string; target: string; findings: Array<{ rule: string; severity: string; message: string }>; suppressed?: Array<{ rule: string; reason: string; allow: number }> }>;
  checks?: Array<{ path: string; findings: Array<{ rule: string; message: string }> }>;
  stale?: Array<{ allow: number; path: string; reason: string; severity: string }>;
  summary: { findings: Record<string, number>; suppressed?: number; stale?: number };
}

let sb: Sandbox | undefined;
afterEach(() => {
  sb?.cleanup();
  sb = undefined;
});

/** A fresh deploy: the Capistrano fixture without shared/pids. */
function freshDeploy(): { root: string; app: string; dir: string } {
  sb = diskSandbox(capistrano);
  const root = `${sb.base}/${JAIL}`;
  fs.rmSync(`${root}${APP}/shared/pids`, { recursive: true });
  return { root, app: root + APP, dir: sb.base };
}

function writeConfig(dir: string, config: unknown): string {
  const file = `${dir}/linkcheck.json`;
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

const json = (stdout: string): Doc => JSON.parse(stdout) as Doc;
const rel = (app: string, p: string): string => p.slice(app.length + 1);

describe('--preset deploy on a fresh Capistrano deploy', () => {
  it('exits 1 and names current, which does not lead to a release in the jail', async () => {
    const { root, app } = freshDeploy();
    const r = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--format', 'json', '--no-config']);
    expect(r.code).toBe(1);
    const current = json(r.stdout).links.find((l) => rel(app, l.path) === 'current')!;
    expect(current.findings.filter((f) => f.rule === 'deploy-layout').map((f) => f.severity)).toEqual(['error']);
    expect(current.findings.find((f) => f.rule === 'deploy-layout')!.message).toMatch(/^current does not resolve in the jail/);
    const pretty = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--no-config']);
    expect(pretty.stdout).toMatch(/current does not resolve in the jail/);
  });

  it('after --fix only the tmp/pids link is left, and an allow entry with its reason makes the exit 0', async () => {
    const { root, app, dir } = freshDeploy();
    const fixed = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--fix', '--no-config']);
    expect(fixed.code).toBe(1);
    const after = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--format', 'json', '--no-config']);
    expect(after.code).toBe(1);
    const left = json(after.stdout).links.filter((l) => l.findings.some((f) => f.severity === 'error'));
    expect(left.map((l) => rel(app, l.path))).toEqual([`releases/${RELEASE}/tmp/pids`]);
    expect(fs.readlinkSync(`${app}/current`)).toBe(`releases/${RELEASE}`);

    const config = writeConfig(dir, {
      allow: [
        { path: 'releases/*/tmp/pids', rules: ['dangling', 'LC009', 'absolute'], reason: 'the app server creates shared/pids on its first start' },
        { path: 'releases/*/public/system', rules: ['dangling'], reason: 'a maintenance toggle that is gone since' },
      ],
    });
    const allowed = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--format', 'json', '--config', config]);
    expect(allowed.code).toBe(0);
    const doc = json(allowed.stdout);
    const pids = doc.links.find((l) => rel(app, l.path) === `releases/${RELEASE}/tmp/pids`)!;
    expect(pids.findings).toEqual([]);
    expect(pids.suppressed!.map((s) => s.rule).sort()).toEqual(['absolute', 'dangling', 'deploy-layout']);
    expect(new Set(pids.suppressed!.map((s) => s.reason))).toEqual(new Set(['the app server creates shared/pids on its first start']));
    expect(doc.summary.suppressed).toBe(3);
    // The second entry matched nothing: reported, so the list does not rot.
    expect(doc.stale).toEqual([
      expect.objectContaining({ allow: 1, path: 'releases/*/public/system', reason: 'a maintenance toggle that is gone since', severity: 'info' }),
    ]);
    expect(doc.summary.stale).toBe(1);

    const pretty = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--config', config]);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toMatch(/allowed by entry #1: 3 findings \(the app server creates shared\/pids on its first start\)/);
    expect(pretty.stdout).toMatch(/stale allow entry: allow entry #2 \(releases\/\*\/public\/system: dangling\) matched no finding/);
    expect(pretty.stdout).toMatch(/3 suppressed by allow entries, 1 stale allow entry/);
    // A stale entry is an info finding of the run: --fail-on info fails on it.
    expect((await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--config', config, '--fail-on', 'info'])).code).toBe(1);
    // The stale line says what the entry was matched against, and the other way to write it.
    expect(pretty.stdout).toMatch(/matched no finding below the scanned path \/var\/www\/rails; if it names links elsewhere, write it from the root \(starting with \/\)/);
  });

  it('an allow path that starts with / is the path inside the root: it holds whatever is scanned', async () => {
    const { root, app, dir } = freshDeploy();
    await runCliInProcess([app, '--root', root, '--fix', '--quiet']);
    const inRoot = writeConfig(dir, { allow: [{ path: '/var/www/rails/releases/*/tmp/pids', rules: ['dangling', 'absolute'], reason: 'created on first start' }] });
    for (const scan of [app, root, `${root}/var/www`]) {
      const doc = json((await runCliInProcess([scan, '--root', root, '--format', 'json', '--config', inRoot])).stdout);
      const pids = doc.links.find((l) => l.path.endsWith(`/releases/${RELEASE}/tmp/pids`))!;
      expect(pids.findings.map((f) => `${f.rule}: ${f.message}`), scan).toEqual([]);
      expect(doc.stale, scan).toEqual([]);
    }
    // Control: the relative entry holds only where it was written from, and says so when stale.
    const relative = writeConfig(dir, { allow: [{ path: 'releases/*/tmp/pids', rules: ['dangling', 'absolute'], reason: 'created on first start' }] });
    const wider = await runCliInProcess([root, '--root', root, '--config', relative]);
    expect(wider.stdout).toMatch(/stale allow entry: .*matched no finding below the scanned path \/; if it names links elsewhere, write it from the root/);
  });

  it('a rollback (current -> the older release) is a warning that says it is not the newest', async () => {
    const { root, app } = freshDeploy();
    fs.unlinkSync(`${app}/current`);
    fs.symlinkSync('releases/20070401120000', `${app}/current`);
    const r = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--format', 'json', '--no-config']);
    const current = json(r.stdout).links.find((l) => rel(app, l.path) === 'current')!;
    expect(current.findings).toEqual([
      expect.objectContaining({ rule: 'deploy-layout', severity: 'warning', message: expect.stringMatching(/not the newest release \(releases\/20070506135654\)/) }),
    ]);
    // Positive control: the newest release is no warning.
    fs.unlinkSync(`${app}/current`);
    fs.symlinkSync(`releases/${RELEASE}`, `${app}/current`);
    const ok = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--format', 'json', '--no-config']);
    expect(json(ok.stdout).links.find((l) => rel(app, l.path) === 'current')!.findings).toEqual([]);
  });

  it('a missing current is a check on the path, and a link into a removed release is named', async () => {
    const { root, app } = freshDeploy();
    fs.unlinkSync(`${app}/current`);
    fs.symlinkSync('../20070401120000/public', `${app}/releases/${RELEASE}/old-public`);
    fs.rmSync(`${app}/releases/20070401120000`, { recursive: true });
    const r = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--format', 'json', '--no-config']);
    expect(r.code).toBe(1);
    const doc = json(r.stdout);
    expect(doc.checks).toEqual([{ path: `${app}/current`, findings: [expect.objectContaining({ rule: 'deploy-layout', message: expect.stringMatching(/^current does not resolve/) })], suppressed: [] }]);
    const old = doc.links.find((l) => l.path.endsWith('/old-public'))!;
    expect(old.findings.find((f) => f.rule === 'deploy-layout')!.message).toMatch(/points into release 20070401120000, which no longer exists/);
    const pretty = await runCliInProcess([app, '--root', root, '--preset', 'deploy', '--no-config']);
    expect(pretty.stdout).toContain(`${app}/current: error LC009 deploy-layout: current does not resolve in the jail`);
  });

  it('--require path=glob: an error finding of rule requirement unless the jail target matches', async () => {
    const { root, app } = freshDeploy();
    const bad = await runCliInProcess([app, '--root', root, '--require', 'current=releases/*', '--format', 'json', '--no-config']);
    const current = json(bad.stdout).links.find((l) => rel(app, l.path) === 'current')!;
    expect(current.findings.find((f) => f.rule === 'requirement')).toMatchObject({ severity: 'error', message: expect.stringMatching(/does not resolve in the jail/) });
    await runCliInProcess([app, '--root', root, '--fix', '--no-config']);
    const good = await runCliInProcess([app, '--root', root, '--require', 'current=releases/*', '--require', 'shared/log', '--format', 'json', '--no-config']);
    expect(json(good.stdout).links.flatMap((l) => l.findings).filter((f) => f.rule === 'requirement')).toEqual([]);
    expect(json(good.stdout).checks).toBeUndefined();
    const wrong = await runCliInProcess([app, '--root', root, '--require', 'current=shared/*', '--require', 'shared/pids', '--format', 'json', '--no-config']);
    expect(wrong.code).toBe(1);
    const doc = json(wrong.stdout);
    expect(doc.links.find((l) => rel(app, l.path) === 'current')!.findings.find((f) => f.rule === 'requirement')!.message).toMatch(
      /leads to releases\/20070506135654 in the jail, which does not match shared\/\*/,
    );
    expect(doc.checks!.map((c) => rel(app, c.path))).toEqual(['shared/pids']);
  });
});
