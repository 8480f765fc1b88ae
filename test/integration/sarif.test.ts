import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as Sarif from 'sarif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, capistrano, JAIL } from '../../fixtures/capistrano.js';
import { type FsPort, nodeFsPort } from '../../src/core/fs-port.js';
import { emptySummary } from '../../src/audit/summary.js';
import { explainRule } from '../../src/report/rules-text.js';
import { runInfo } from '../../src/report/run-info.js';
import { sarifReporter, uriOf } from '../../src/report/formats/sarif.js';
import { rules } from '../../src/rules/registry.js';
import { ensureBuilt } from '../support/build.js';
import { runCliInProcess, spawnCli } from '../support/cli.js';
import { tempDir } from '../support/disk.js';
import { jsonToBytes, randomTree } from '../support/random-tree.js';
import { diskSandbox, type Sandbox } from '../support/sandbox.js';
import { type Materialised, materialiseRandom } from '../support/tree.js';

type Props = { path: string; inside: string; target?: string; fix: unknown; rule: string };

const errnoError = (code: string): Error => Object.assign(new Error(`${code}: refused by the test`), { code });

/** Percent-decoding to bytes (one char per byte), written here apart from src/report/formats/sarif.ts. */
function uriBytes(uri: string): string {
  return uri.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** The log in the json report's terms: every finding of every link and unreadable entry. */
function jsonFindings(doc: { links: { path: string; findings: { code: string }[] }[]; unreadable: { path: string; findings: { code: string }[] }[] }): string[] {
  return [...doc.links, ...doc.unreadable].flatMap((l) => l.findings.map((f) => `${f.code} ${l.path}`)).sort();
}

function sarifFindings(log: Sarif.Log): string[] {
  return log.runs[0]!.results!.map((r) => `${r.ruleId} ${(r.properties as Props).path}`).sort();
}

describe('--format sarif on the Capistrano story', () => {
  // Made when the suite runs, not when it is collected: a filtered run would leave them behind.
  let a: Sandbox;
  let b: Sandbox;
  beforeAll(() => {
    a = diskSandbox(capistrano);
    b = diskSandbox(capistrano);
  });
  afterAll(() => {
    a?.cleanup();
    b?.cleanup();
  });
  const scan = async (base: string, format: string): Promise<string> => {
    const root = `${base}/${JAIL}`;
    const r = await runCliInProcess([root + APP, '--root', root, '--format', format], { fs: nodeFsPort() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    return r.stdout;
  };

  it('describes every rule with what `explain` says, and points each result at its rule', async () => {
    const log = JSON.parse(await scan(a.base, 'sarif')) as Sarif.Log;
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0]!;
    const driver = run.tool.driver;
    expect(driver.name).toBe('linkcheck');
    expect(driver.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(driver.rules!.map((r) => r.id)).toEqual(rules.map((r) => r.code));
    for (const [i, r] of rules.entries()) {
      const d = driver.rules![i]!;
      expect(d.name).toBe(r.id);
      expect(d.shortDescription!.text).toBe(r.title);
      expect(d.fullDescription!.text).toContain(r.docs.what);
      expect(d.help!.text).toBe(explainRule(r.id));
      expect(d.defaultConfiguration!.level).toBe({ error: 'error', warning: 'warning', info: 'note' }[r.severity]);
    }
    const json = JSON.parse(await scan(a.base, 'json'));
    expect(run.results!.length).toBe(11);
    expect(sarifFindings(log)).toEqual(jsonFindings(json));
    for (const res of run.results!) {
      expect(driver.rules![res.ruleIndex!]!.id).toBe(res.ruleId);
      const link = json.links.find((l: { path: string }) => l.path === (res.properties as Props).path);
      const finding = link.findings.find((f: { code: string }) => f.code === res.ruleId);
      expect(res.message.text).toBe(finding.message);
      expect(res.level).toBe({ error: 'error', warning: 'warning', info: 'note' }[finding.severity as 'error']);
      // The planned fix travels with the result, as the json report gives it.
      expect((res.properties as Props).fix).toEqual(link.fix);
      expect((res.properties as Props).target).toBe(link.target);
    }
    // A positive control for the fix check: this story has fixes to carry.
    expect(run.results!.filter((r) => (r.properties as Props).fix !== null).length).toBe(11);
  });

  it('locates each link relative to the scanned path, which originalUriBaseIds names', async () => {
    const log = JSON.parse(await scan(a.base, 'sarif')) as Sarif.Log;
    const run = log.runs[0]!;
    const scanned = `${a.base}/${JAIL}${APP}`;
    expect(run.originalUriBaseIds).toEqual({ TREE: { uri: `file://${scanned}/`, description: { text: 'a scanned path' } } });
    const uris = run.results!.map((r) => {
      const loc = r.locations![0]!.physicalLocation!;
      expect(loc.region!.startLine).toBe(1);
      expect(loc.artifactLocation!.uriBaseId).toBe('TREE');
      const uri = loc.artifactLocation!.uri!;
      expect(uri).not.toMatch(/^\/|^[a-z]+:/);
      expect(scanned + '/' + uriBytes(uri)).toBe((r.properties as Props).path);
      return uri;
    });
    expect([...new Set(uris)].sort()).toEqual(['current', `releases/20070506135654/log`, 'releases/20070506135654/public/system', 'releases/20070506135654/tmp/pids']);
  });

  it('fingerprints each finding the same wherever the tree sits on the host, and no two alike', async () => {
    const fingerprints = async (base: string): Promise<string[]> =>
      (JSON.parse(await scan(base, 'sarif')) as Sarif.Log).runs[0]!.results!.map((r) => `${r.ruleId} ${r.partialFingerprints!['linkcheckFinding/v1']}`).sort();
    const fa = await fingerprints(a.base);
    expect(a.base).not.toBe(b.base);
    expect(await fingerprints(b.base)).toEqual(fa);
    expect(new Set(fa.map((f) => f.split(' ')[1])).size).toBe(fa.length);
    for (const f of fa) expect(f).toMatch(/^LC00\d [0-9a-f]{32}$/);
  });

  it('says when the run started and ended', async () => {
    const before = Date.now();
    const log = JSON.parse(await scan(a.base, 'sarif')) as Sarif.Log;
    const inv = log.runs[0]!.invocations![0]!;
    const start = Date.parse(inv.startTimeUtc!);
    const end = Date.parse(inv.endTimeUtc!);
    expect(start).toBeGreaterThanOrEqual(before);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(end).toBeLessThanOrEqual(Date.now());
  });
});

describe('SARIF locations', () => {
  const ctx = { color: false, quiet: false, mode: 'audit', run: runInfo('1.2.3', 0) } as const;
  const entry = (p: string) => ({ type: 'unreadable', entry: { path: p, errno: 'EACCES', finding: { rule: 'unreadable', code: 'LC007', severity: 'warning', message: 'm' } } }) as const;

  it('percent-encode every byte a URI path cannot hold, and name the scanned directory itself ./', () => {
    expect(uriOf('a b/c:d/%/\xff\xc3\xa9/#?/new\nline/ok-._~!$&\'()*+,;=@')).toBe("a%20b/c%3Ad/%25/%FF%C3%A9/%23%3F/new%0Aline/ok-._~!$&'()*+,;=@");
    const r = sarifReporter(ctx, () => 0);
    const text = r.begin({ root: '/', scanned: ['/srv/a', '/srv/b'] }) + r.event(entry('/srv/a')) + r.event(entry('/srv/b/x y')) + r.end(emptySummary(), []);
    const locs = (JSON.parse(text) as Sarif.Log).runs[0]!.results!.map((x) => x.locations![0]!.physicalLocation!.artifactLocation);
    expect(locs).toEqual([
      { uri: './', uriBaseId: 'TREE' },
      { uri: 'x%20y', uriBaseId: 'TREE2' },
    ]);
  });
});

describe('--format sarif on a clean tree', () => {
  let sb: Sandbox;
  beforeAll(() => {
    sb = diskSandbox({ jail: { a: { b: 'file' }, ok: { link: 'a/b' }, dir: { link: 'a' } } });
  });
  afterAll(() => sb?.cleanup());

  it('has `results: []`, and the same tree with one bad link has one result (the control)', async () => {
    const root = `${sb.base}/jail`;
    const r = await runCliInProcess([root, '--root', root, '--format', 'sarif'], { fs: nodeFsPort() });
    expect(r.code).toBe(0);
    const log = JSON.parse(r.stdout) as Sarif.Log;
    expect(log.runs[0]!.results).toEqual([]);
    expect(log.runs[0]!.tool.driver.rules).toHaveLength(rules.length);
    fs.symlinkSync('missing', `${root}/a/bad`);
    try {
      const bad = JSON.parse((await runCliInProcess([root, '--root', root, '--format', 'sarif'], { fs: nodeFsPort() })).stdout) as Sarif.Log;
      expect(bad.runs[0]!.results!.map((x) => x.ruleId)).toEqual(['LC003']);
    } finally {
      fs.unlinkSync(`${root}/a/bad`);
    }
  });
});

const multitool = createRequire(import.meta.url)('@microsoft/sarif-multitool') as string;

/** What the SARIF multitool's `validate` says about `file` (GitHub's rules too), as `level ruleId: message` lines. */
function validate(file: string, dir: string): { errors: string[]; warnings: string[] } {
  const out = path.join(dir, `${path.basename(file)}.validation.sarif`);
  const r = spawnSync(multitool, ['validate', file, '--rule-kind', 'Sarif;Gh', '--output', out, '--log', 'ForceOverwrite'], {
    encoding: 'utf8',
    timeout: 120_000,
    // The multitool is a .NET program: no ICU needed for this, and no telemetry.
    env: { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1' },
  });
  if (r.error) throw r.error;
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const log = JSON.parse(fs.readFileSync(out, 'utf8')) as Sarif.Log;
  const lines = (level: string): string[] =>
    log.runs[0]!.results!.filter((x) => (x.level ?? 'warning') === level).map((x) => `${level} ${x.ruleId}: ${JSON.stringify(x.message.arguments ?? x.message.text)}`);
  return { errors: lines('error'), warnings: lines('warning') };
}

describe('--format sarif on an adversarial tree', () => {
  let work = '';
  let tree: Materialised | undefined;
  let root = '';
  beforeAll(() => {
    ensureBuilt();
    work = tempDir('sarif');
    // Hostile names (newlines, quotes, bytes that are not UTF-8, bidi controls), loops, escapes,
    // chains of 40 and 41 links; large enough that -j 2 hands the work to the audit thread.
    tree = materialiseRandom(randomTree(1313, { links: 2000 }), 'linkcheck-sarif-tree-');
    root = tree.root;
  });
  afterAll(() => {
    tree?.cleanup();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  // A directory and a link the walk cannot read, so the unreadable entries are in the count too.
  const poisoned = (): FsPort => {
    const real = nodeFsPort();
    const dirs = fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory());
    const deniedDir = `${root}/${dirs[0]!.name}`;
    let deniedLink = '';
    return {
      ...real,
      readdir: (d) => {
        if (d === deniedDir) throw errnoError('EACCES');
        return real.readdir(d);
      },
      readlink: (p) => {
        if (deniedLink === '' && !p.startsWith(deniedDir + '/')) deniedLink = p;
        if (p === deniedLink) throw errnoError('EIO');
        return real.readlink(p);
      },
    };
  };

  it('has one result per finding of the json report, unreadable entries included', async () => {
    const sarif = await runCliInProcess([root, '--root', root, '--format', 'sarif', '--fail-on', 'never'], { fs: poisoned() });
    const json = await runCliInProcess([root, '--root', root, '--format', 'json', '--fail-on', 'never'], { fs: poisoned() });
    expect(sarif.stderr + json.stderr).toBe('');
    const doc = JSON.parse(json.stdout);
    expect(doc.unreadable.map((u: { errno: string }) => u.errno).sort()).toEqual(['EACCES', 'EIO']);
    const log = JSON.parse(sarif.stdout) as Sarif.Log;
    const want = jsonFindings(doc);
    expect(want.length).toBeGreaterThan(1000);
    expect(sarifFindings(log)).toEqual(want);
    // Every rule that no option switches on (--require, a preset, --as-user, --rule) fires
    // somewhere in this tree, so every such rule's results are counted.
    expect(new Set(log.runs[0]!.results!.map((r) => r.ruleId))).toEqual(new Set(rules.filter((r) => !('enabledBy' in r)).map((r) => r.code)));
    // Each result's location names its link exactly, whatever bytes its name holds.
    const base = `${root}/`;
    for (const r of log.runs[0]!.results!) {
      const uri = r.locations![0]!.physicalLocation!.artifactLocation!.uri!;
      expect(uri).toMatch(/^[A-Za-z0-9\-._~/!$&'()*+,;=@%]*$/);
      expect(base + uriBytes(uri)).toBe(jsonToBytes((r.properties as Props).path));
    }
    const prints = log.runs[0]!.results!.map((r) => r.partialFingerprints!['linkcheckFinding/v1']);
    expect(new Set(prints).size).toBe(prints.length);
  });

  it('passes the SARIF multitool with no errors (SARIF and GitHub rules), and the validation can fail (control)', async () => {
    const file = path.join(work, 'linkcheck.sarif');
    fs.writeFileSync(file, (await runCliInProcess([root, '--root', root, '--format', 'sarif', '--fail-on', 'never'], { fs: poisoned() })).stdout);
    const clean = tempDir('sarif-clean');
    try {
      const cleanFile = path.join(work, 'clean.sarif');
      fs.writeFileSync(cleanFile, (await runCliInProcess([clean, '--root', clean, '--format', 'sarif'], { fs: nodeFsPort() })).stdout);
      for (const f of [file, cleanFile]) {
        const v = validate(f, work);
        expect(v.errors, f).toEqual([]);
        // The one warning left: linkcheck has no web page to name as its informationUri.
        expect(v.warnings.filter((w) => !w.startsWith('warning SARIF2005')), f).toEqual([]);
      }
    } finally {
      fs.rmSync(clean, { recursive: true, force: true });
    }
    // The control: the same log with a result that lost its message and points past the rules.
    const broken = JSON.parse(fs.readFileSync(file, 'utf8')) as Sarif.Log;
    broken.runs[0]!.results = broken.runs[0]!.results!.slice(0, 5);
    const first = broken.runs[0]!.results![0]!;
    first.ruleIndex = 99;
    first.message = {} as Sarif.Message;
    const brokenFile = path.join(work, 'broken.sarif');
    fs.writeFileSync(brokenFile, JSON.stringify(broken));
    const v = validate(brokenFile, work);
    expect(v.errors.some((e) => e.startsWith('error SARIF1009'))).toBe(true);
    expect(v.errors.some((e) => e.startsWith('error GH'))).toBe(true);
  }, 180_000);

  it('is the same from the real CLI with -j 1 and -j 2, but for the run times', () => {
    const times = (s: string): string => s.replace(/"(start|end)TimeUtc":"[^"]*"/g, '"$1TimeUtc":"T"');
    const one = spawnCli([root, '--root', root, '--format', 'sarif', '--fail-on', 'never', '-j', '1']);
    const two = spawnCli([root, '--root', root, '--format', 'sarif', '--fail-on', 'never', '-j', '2']);
    expect(one.stderr + two.stderr).toBe('');
    expect(one.code).toBe(0);
    expect(times(two.stdout) === times(one.stdout), 'the two-thread log is the one-thread log').toBe(true);
    expect((JSON.parse(two.stdout) as Sarif.Log).runs[0]!.invocations![0]!.endTimeUtc).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
