/**
 * The config file: every key does what the README says, flags win, and every bad config is one
 * line on stderr naming the file, the line and the key, with exit 2. Trees on memfs; the config
 * files on the real disk (they are read from there).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/file.js';
import { run, type CliIo } from '../../src/cli/program.js';
import { parseJsonText } from '../../src/config/json-text.js';
import type { Tree } from '../../fixtures/tree.js';
import type { InProcessResult } from '../support/cli.js';
import { memfsSandbox } from '../support/sandbox.js';
import { REPO } from '../support/repo.js';

const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'linkcheck-config-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function configFile(text: string): string {
  const f = `${dir}/c${++n}.json`;
  fs.writeFileSync(f, text);
  return f;
}
const NO_DEFAULT = `${dir}/no-such-default.json`;

async function cli(argv: string[], opts: { fs?: CliIo['fs']; defaultConfig?: string } = {}): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env: {},
    isTTY: false,
    cwd: '/',
    defaultConfig: opts.defaultConfig ?? NO_DEFAULT,
    ...(opts.fs ? { fs: opts.fs } : {}),
  });
  return { code, stdout, stderr };
}

// A jail with one of each: a jail-style absolute link (absolute + view-mismatch warnings), a
// dangling one (error), an unclean one (info), and a link whose target is outside var/.
const tree: Tree = {
  jail: {
    b: {},
    srv: { app: { releases: { '1': {} } } },
    var: {
      abs: { link: '/b' },
      gone: { link: 'nowhere' },
      unclean: { link: '..//b' },
      app: { link: '../srv/app' },
      outside: { link: '/srv/app/releases/1' },
    },
  },
};
const sb = memfsSandbox(tree);
const root = `${sb.base}/jail`;
type Doc = {
  root: string;
  links: Array<{ path: string; findings: Array<{ rule: string; severity: string }>; fix: unknown; noFix: string | null }>;
  reports?: Doc[];
  checks?: unknown[];
};
const doc = (r: InProcessResult): Doc => JSON.parse(r.stdout) as Doc;
const rulesOf = (d: Doc, name: string): string[] => d.links.find((l) => l.path.endsWith('/' + name))?.findings.map((f) => `${f.rule}:${f.severity}`) ?? [];
const withConfig = (config: object, args: string[] = [root, '--root', root]) => cli([...args, '--format', 'json', '--config', configFile(JSON.stringify(config, null, 2))], { fs: sb.fs });

describe('every config key', () => {
  it('root: the jail root when --root is not given; --root wins', async () => {
    const r = await withConfig({ root }, [root]);
    expect(doc(r).root).toBe(root);
    const other = await withConfig({ root: `${root}/var` }, [root, '--root', root]);
    expect(doc(other).root).toBe(root);
  });

  it('roots: several jails in one report', async () => {
    const r = await withConfig({ roots: [root, `${root}/srv`], paths: ['/'] }, []);
    expect(r.code).toBe(1);
    expect(doc(r).reports!.map((x) => x.root)).toEqual([root, `${root}/srv`]);
  });

  it('paths: scanned inside the root when the command line names none; command-line paths win', async () => {
    const r = await withConfig({ root, paths: ['var'] }, []);
    expect(doc(r).links.map((l) => path.basename(l.path)).sort()).toEqual(['abs', 'app', 'gone', 'outside', 'unclean']);
    const cliPaths = await withConfig({ root, paths: ['nope'] }, [`${root}/var`]);
    expect(cliPaths.code).toBe(1);
    expect(doc(cliPaths).links).toHaveLength(5);
    const none = await withConfig({ root }, []);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing required argument 'paths'/);
  });

  it('exclude: leaves entries out; --exclude replaces the list', async () => {
    const r = await withConfig({ exclude: ['gone'] });
    expect(r.code).toBe(0);
    expect(doc(r).links.some((l) => l.path.endsWith('/gone'))).toBe(false);
    const flag = await withConfig({ exclude: ['gone'] }, [root, '--root', root, '--exclude', 'abs']);
    expect(flag.code).toBe(1);
    expect(doc(flag).links.some((l) => l.path.endsWith('/abs'))).toBe(false);
  });

  it('rules: off drops a rule, a level changes its severity, by id or code', async () => {
    const r = await withConfig({ rules: { absolute: 'off', LC005: 'error', dangling: 'info' } });
    const d = doc(r);
    expect(rulesOf(d, 'abs')).toEqual(['view-mismatch:error']);
    expect(rulesOf(d, 'gone')).toEqual(['dangling:info']);
    expect(r.code).toBe(1); // view-mismatch raised to error
    // Positive control: without the config the same links say otherwise.
    const plain = doc(await cli([root, '--root', root, '--format', 'json'], { fs: sb.fs }));
    expect(rulesOf(plain, 'abs')).toEqual(['absolute:warning', 'view-mismatch:warning']);
  });

  it('allow: findings set aside with the reason, not counted', async () => {
    const r = await withConfig({ allow: [{ path: 'var/gone', rules: ['dangling'], reason: 'a toggle' }] });
    expect(r.code).toBe(0);
    const gone = (JSON.parse(r.stdout) as { links: Array<{ path: string; suppressed?: Array<{ reason: string }> }> }).links.find((l) => l.path.endsWith('/gone'))!;
    expect(gone.suppressed!.map((s) => s.reason)).toEqual(['a toggle']);
  });

  it('failOn: the threshold; --fail-on wins', async () => {
    expect((await withConfig({ failOn: 'never' })).code).toBe(0);
    const w = { allow: [{ path: 'var/gone', rules: ['dangling'], reason: 'r' }] };
    expect((await withConfig({ ...w, failOn: 'warning' })).code).toBe(1);
    expect((await withConfig({ ...w, failOn: 'warning' }, [root, '--root', root, '--fail-on', 'error'])).code).toBe(0);
  });

  it('fixScope: tree keeps --fix to targets inside the scanned tree; --fix-scope wins', async () => {
    const scoped = await withConfig({ fixScope: 'tree' }, [`${root}/var`, '--root', root, '--fix', '--dry-run']);
    const outside = doc(scoped).links.find((l) => l.path.endsWith('/outside'))!;
    expect(outside.fix).toBeNull();
    expect(outside.noFix).toMatch(/fix scope/);
    const wide = await withConfig({ fixScope: 'tree' }, [`${root}/var`, '--root', root, '--fix', '--dry-run', '--fix-scope', 'root']);
    expect(doc(wide).links.find((l) => l.path.endsWith('/outside'))!.fix).not.toBeNull();
  });

  it('require: paths that must resolve; --require replaces the list', async () => {
    const r = await withConfig({ require: ['var/app=srv/*', 'var/gone'] });
    const d = doc(r);
    expect(rulesOf(d, 'gone')).toContain('requirement:error');
    expect(rulesOf(d, 'app')).toEqual([]);
    const flag = doc(await withConfig({ require: ['var/gone'] }, [root, '--root', root, '--require', 'var/app=releases/*']));
    expect(rulesOf(flag, 'gone')).not.toContain('requirement:error');
    expect(rulesOf(flag, 'app')).toEqual(['requirement:error']);
  });

  it('preset: deploy or rootfs; --preset wins', async () => {
    const d = doc(await withConfig({ preset: 'deploy' }, [`${root}/srv/app`, '--root', root]));
    expect(d.checks).toEqual([expect.objectContaining({ path: `${root}/srv/app/current` })]);
    const flag = doc(await withConfig({ preset: 'deploy' }, [`${root}/srv/app`, '--root', root, '--preset', 'rootfs']));
    expect(flag.checks).toBeUndefined();
  });

  it('$schema: allowed, for editors', async () => {
    expect((await withConfig({ $schema: './schema/config.schema.json', failOn: 'never' })).code).toBe(0);
  });

  it('the default config is read when present and no --config is given; --no-config skips it', async () => {
    const def = configFile('{ "failOn": "never" }');
    expect((await cli([root, '--root', root], { fs: sb.fs, defaultConfig: def })).code).toBe(0);
    expect((await cli([root, '--root', root, '--no-config'], { fs: sb.fs, defaultConfig: def })).code).toBe(1);
    expect((await cli([root, '--root', root], { fs: sb.fs })).code).toBe(1);
    // A default that exists but is broken is never skipped.
    const broken = configFile('{ "failOn": "sometimes" }');
    const r = await cli([root, '--root', root], { fs: sb.fs, defaultConfig: broken });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(broken);
  });
});

describe('bad configs: exit 2, one line naming the file, the line and the key', () => {
  const bad: Array<[string, string, RegExp]> = [
    ['not JSON (trailing comma)', '{\n  "failOn": "error",\n}\n', /line 3: not valid JSON/],
    ['a key given twice', '{\n  "failOn": "error",\n  "failOn": "never"\n}', /line 3: not valid JSON: key "failOn" is given twice/],
    ['a mistyped key', '{\n  "failon": "error"\n}', /line 2: failon: unknown key: did you mean failOn\?\n$/],
    ['an unknown key', '{\n  "colour": "never"\n}', /line 2: colour: unknown key: keys are root, roots, paths, exclude, rules, allow, failOn, fixScope, require, preset, asUser\n$/],
    ['a mistyped key of an allow entry', '{\n  "allow": [{ "path": "x", "rules": ["dangling"], "reason": "r", "reson": "r" }]\n}', /line 2: allow\[0\]\.reson: unknown key: did you mean reason\?/],
    ['a list where a string belongs', '{\n  "root": ["/srv"]\n}', /line 2: root: must be a string/],
    ['a relative root', '{\n\n  "root": "srv/jail"\n}', /line 3: root: must be an absolute path/],
    ['root and roots both', '{\n  "root": "/a",\n  "roots": ["/b"]\n}', /line 3: roots: give root or roots, not both/],
    ['an empty roots list', '{ "roots": [] }', /line 1: roots: must not be empty/],
    ['a relative entry in roots', '{\n  "roots": [\n    "/a",\n    "b"\n  ]\n}', /line 4: roots\[1\]: must be an absolute path/],
    ['an empty path', '{\n  "paths": [""]\n}', /line 2: paths\[0\]: must not be empty/],
    ['exclude as a string', '{\n  "exclude": "tmp"\n}', /line 2: exclude: must be a list/],
    ['a bad level', '{\n  "rules": {\n    "absolute": "loud"\n  }\n}', /line 3: rules\.absolute: must be one of off, info, warning, error/],
    ['an unknown rule', '{\n  "rules": {\n    "LC001": "off",\n    "nope": "off"\n  }\n}', /line 4: rules\.nope: unknown rule "nope"/],
    ['unreadable off', '{\n  "rules": { "unreadable": "off" }\n}', /line 2: rules\.unreadable: unreadable cannot be off/],
    ['rules as a list', '{ "rules": ["absolute"] }', /line 1: rules: must be an object/],
    ['an allow entry without a reason', '{\n  "allow": [\n    { "path": "x", "rules": ["dangling"] }\n  ]\n}', /line 3: allow\[0\]: missing "reason"/],
    ['an allow entry with a blank reason', '{\n  "allow": [\n    {\n      "path": "x",\n      "rules": ["dangling"],\n      "reason": "  "\n    }\n  ]\n}', /line 6: allow\[0\]\.reason: must not be empty/],
    ['an allow entry with an unknown rule', '{\n  "allow": [\n    { "path": "x", "rules": ["danglin"], "reason": "r" }\n  ]\n}', /line 3: allow\[0\]\.rules: unknown rule "danglin"/],
    ['an allow entry with an unknown key', '{\n  "allow": [{ "path": "x", "rules": ["dangling"], "reason": "r",\n    "why": "r" }]\n}', /line 3: allow\[0\]\.why: unknown key/],
    ['an allow entry with no rules', '{\n  "allow": [{ "path": "x", "rules": [], "reason": "r" }]\n}', /line 2: allow\[0\]\.rules: must not be empty/],
    ['an allow entry for unreadable', '{\n  "allow": [{ "path": "x", "rules": ["LC007"], "reason": "r" }]\n}', /line 2: allow\[0\]\.rules: unreadable cannot be allowed/],
    ['a bad failOn', '{\n  "failOn": "sometimes"\n}', /line 2: failOn: must be one of error, warning, info, never/],
    ['a bad fixScope', '{\n  "fixScope": "all"\n}', /line 2: fixScope: must be one of root, tree/],
    ['an absolute require', '{\n  "require": [\n    "current",\n    "/current"\n  ]\n}', /line 4: require\[1\]: give a path relative to the scanned path/],
    ['a require with an empty glob', '{\n  "require": ["current="]\n}', /line 2: require\[0\]: the glob after = is empty/],
    ['an unknown preset', '{\n  "preset": "docker"\n}', /line 2: preset: must be one of deploy, rootfs/],
    ['a $schema that is not a string', '{\n  "$schema": 5\n}', /line 2: \$schema: must be a string/],
    ['a document that is not an object', '[]', /line 1: must be an object/],
    ['an empty file', '', /line 1: not valid JSON: unexpected end of file/],
  ];
  it.each(bad)('%s', async (_what, text, message) => {
    const file = configFile(text);
    const r = await cli([root, '--root', root, '--config', file], { fs: sb.fs });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^linkcheck: config /);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(message);
  });

  it('a missing config file or a directory', async () => {
    for (const [file, why] of [[`${dir}/none.json`, /does not exist/], [dir, /is a directory/]] as const) {
      const r = await cli([root, '--root', root, '--config', file], { fs: sb.fs });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});

describe('who may write the config', () => {
  const asRoot = process.geteuid?.() === 0;
  it(asRoot ? 'run as root: a config another user owns or may write is refused' : 'run as a user: the config is read whoever owns it', async () => {
    const open = configFile('{ "failOn": "never" }');
    fs.chmodSync(open, 0o666);
    const foreign = configFile('{ "failOn": "never" }');
    if (asRoot) fs.chownSync(foreign, 65534, 65534);
    const safe = configFile('{ "failOn": "never" }');
    fs.chmodSync(safe, 0o644);
    expect((await cli([root, '--root', root, '--config', safe], { fs: sb.fs })).code).toBe(0);
    for (const [file, why] of [[open, /is writable by everyone \(mode 666\)/], [foreign, /is owned by uid 65534, not root/]] as const) {
      const r = await cli([root, '--root', root, '--config', file], { fs: sb.fs });
      if (!asRoot) {
        expect(r.code).toBe(0);
        continue;
      }
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});

describe('the schema and the README', () => {
  const repo = REPO;
  const keys = Object.keys((configSchema() as { properties: object }).properties);

  it('the schema has the keys the issue asks for, and nothing undocumented', () => {
    expect(keys.sort()).toEqual(['$schema', 'allow', 'asUser', 'exclude', 'failOn', 'fixScope', 'paths', 'preset', 'require', 'root', 'roots', 'rules'].sort());
  });

  it('the README documents every key', () => {
    const readme = fs.readFileSync(`${repo}/README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('## Config file'));
    expect(section.length).toBeGreaterThan(100);
    for (const k of keys) expect(section, k).toContain(`\`${k}\``);
  });

  it('the package ships the schema', () => {
    const pkg = JSON.parse(fs.readFileSync(`${repo}/package.json`, 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('schema/');
  });

  it('the JSON reader agrees with JSON.parse and knows where each key is', () => {
    const text = '{\n  "a": [1, {"b": "x\\"y"}],\n  "c": null, "d": -1.5e3\n}';
    const p = parseJsonText(text);
    expect(p.value).toEqual(JSON.parse(text));
    expect(p.offsets.get('/a/1/b')).toBe(text.indexOf('"b"'));
    expect(p.offsets.get('/c')).toBe(text.indexOf('"c"'));
  });
});
