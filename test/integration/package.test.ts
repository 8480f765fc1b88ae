import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, capistrano, JAIL } from '../../fixtures/capistrano.js';
import { EXIT } from '../../src/cli/program.js';
import { FORMATS } from '../../src/report/formats/by-name.js';
import { rules } from '../../src/rules/registry.js';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { tempDir } from '../support/disk.js';
import { missingTool, requireTool, toolGate } from '../support/integration.js';
import { REPO } from '../support/repo.js';
import { diskSandbox } from '../support/sandbox.js';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  man: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  engines: { node: string };
};

/** Runs a command that must succeed; its stdout (and stderr too, with `both`). */
function sh(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; both?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', env: { ...process.env, ...opts.env }, maxBuffer: 1 << 26, timeout: 300_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return opts.both ? r.stdout + r.stderr : r.stdout;
}

/** The repository as a fresh clone would have it (tracked and new files, nothing ignored), node_modules linked in. */
function cloneOfRepo(dest: string): void {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 26 });
  // Without git (a copy, not a clone): everything but what .gitignore names.
  const files =
    git.status === 0
      ? git.stdout.split('\0').filter(Boolean)
      : fs
          .readdirSync(REPO, { recursive: true, encoding: 'utf8' })
          .filter((f) => !/^(\.git|node_modules|dist|coverage|bench\/out)(\/|$)/.test(f) && fs.lstatSync(path.join(REPO, f)).isFile());
  for (const f of files) {
    const from = path.join(REPO, f);
    if (!fs.existsSync(from)) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.cpSync(from, path.join(dest, f), { verbatimSymlinks: true });
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dest, 'node_modules'));
}

const npmOpts = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn'];

describe('the npm package', () => {
  let work = '';
  let clone = '';
  let tarball = '';
  let packed: string[] = [];
  let distBeforePack = true;
  beforeAll(() => {
    work = tempDir('pack');
    clone = path.join(work, 'clone');
    // Packed from a copy: prepack rebuilds dist/, which other test files are running from.
    cloneOfRepo(clone);
    distBeforePack = fs.existsSync(path.join(clone, 'dist'));
    const out = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=warn'], { cwd: clone })) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = path.join(work, out[0]!.filename);
    packed = out[0]!.files.map((f) => f.path).sort();
  }, 300_000);
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('ships what runs and what a reader needs: no fixtures, tests or source maps', () => {
    expect(fs.existsSync(tarball)).toBe(true);
    for (const f of packed) {
      expect(f, f).toMatch(/^(package\.json|README\.md|bin\/[^/]+\.js|dist\/src\/.+\.(js|d\.ts)|man\/linkcheck\.1|schema\/config\.schema\.json|docs\/[^/]+\.(md|yml)|contrib\/.+)$/);
      expect(f, f).not.toMatch(/\.map$|(^|\/)(test|fixtures|bench)\/|\.test\./);
    }
    // Everything the CLI loads is there: main, the audit thread, every module the build made.
    const built = fs
      .readdirSync(path.join(clone, 'dist', 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js'))
      .map((f) => `dist/src/${f}`);
    expect(built).toContain('dist/src/audit-worker.js');
    expect(built).toContain('dist/src/run/audit-worker.js');
    for (const f of built) expect(packed, f).toContain(f);
    expect(packed).toEqual(expect.arrayContaining(['bin/linkcheck.js', 'man/linkcheck.1', 'README.md', 'docs/prometheus-alerts.yml']));
    // An array: npm 11 links a page given as a plain string nowhere on a global install.
    expect(pkg.man).toEqual(['./man/linkcheck.1']);
  });

  it('builds before packing, never at install time', () => {
    expect(pkg.scripts.prepack).toMatch(/npm run build/);
    for (const s of ['prepare', 'preinstall', 'install', 'postinstall']) expect(pkg.scripts[s], s).toBeUndefined();
    // The clone had no dist/ of its own: prepack made it.
    expect(distBeforePack).toBe(false);
    expect(fs.existsSync(path.join(clone, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
  });

  it('installs into a clean prefix with only its runtime dependencies, and runs', () => {
    const prefix = path.join(work, 'prefix');
    fs.mkdirSync(prefix);
    const log = sh('npm', ['install', '--prefix', prefix, ...npmOpts, '--foreground-scripts', tarball], { both: true });
    expect(log).not.toMatch(/tsc|prepare|prepack/);
    const installed = fs.readdirSync(path.join(prefix, 'node_modules')).filter((n) => !n.startsWith('.'));
    // Every runtime dependency (and what they need), no development one.
    for (const d of [...Object.keys(pkg.dependencies), pkg.name]) expect(installed, d).toContain(d);
    for (const d of Object.keys(pkg.devDependencies)) expect(fs.existsSync(path.join(prefix, 'node_modules', d)), d).toBe(false);
    // Installed code only: nothing built in place.
    expect(fs.existsSync(path.join(prefix, 'node_modules', pkg.name, 'tsconfig.json'))).toBe(false);
    expect(fs.existsSync(path.join(prefix, 'node_modules', pkg.name, 'src'))).toBe(false);
    const bin = path.join(prefix, 'node_modules', '.bin', 'linkcheck');
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(Number(/\d+/.exec(pkg.engines.node)![0]));
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(version.stdout.trim()).toBe(pkg.version);
    expect(version.status).toBe(0);
    const sb = diskSandbox(capistrano);
    try {
      const root = `${sb.base}/${JAIL}`;
      const scan = spawnSync(bin, [root + APP, '--root', root, '--format', 'json', '-j', '2'], { encoding: 'utf8', cwd: work });
      expect(scan.stderr).toBe('');
      expect(scan.status).toBe(1);
      expect(JSON.parse(scan.stdout).summary).toMatchObject({ links: 4, problems: 4, fixable: 4 });
      const fix = spawnSync(bin, [root + APP, '--root', root, '--fix', '--quiet'], { encoding: 'utf8', cwd: work });
      expect(fix.status).toBe(0);
      expect(fix.stdout).toMatch(/^fixed /m);
    } finally {
      sb.cleanup();
    }
  }, 300_000);

  it('a project that installs the tarball imports it as the README says, and gets café as café', () => {
    const project = path.join(work, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-linkcheck', version: '1.0.0', private: true, type: 'module' }));
    sh('npm', ['install', ...npmOpts, tarball], { cwd: project });
    const tree = path.join(work, 'names');
    fs.mkdirSync(path.join(tree, 'café'), { recursive: true });
    fs.symlinkSync('café', path.join(tree, 'là'));
    // A name that is not UTF-8: its bytes come back exact through toBytes.
    fs.symlinkSync('café', Buffer.from(`${tree}/n\xff`, 'latin1'));
    fs.writeFileSync(
      path.join(project, 'main.js'),
      [
        "import { audit, toBytes } from 'linkcheck';",
        "import { readlinkSync } from 'node:fs';",
        `const result = await audit({ paths: [${JSON.stringify(tree)}] });`,
        'for (const link of [...result.links].sort((a, b) => (a.path < b.path ? -1 : 1)))',
        "  console.log(link.path.slice(link.path.lastIndexOf('/') + 1), link.target, readlinkSync(toBytes(link.path)), toBytes(link.path).at(-1));",
      ].join('\n'),
    );
    const out = sh('node', ['main.js'], { cwd: project });
    expect(out).toBe('là café café 160\nn\udcff café café 255\n'.replace('\udcff', '\ufffd'));
  }, 300_000);

  const man = missingTool('man');
  const gate = toolGate(man);
  it.skipIf(gate.skip)(`installed globally, puts linkcheck on PATH and its page where man finds it${gate.label}`, () => {
    requireTool(man);
    const prefix = path.join(work, 'global');
    sh('npm', ['install', '--global', '--prefix', prefix, ...npmOpts, tarball]);
    expect(sh(path.join(prefix, 'bin', 'linkcheck'), ['--version']).trim()).toBe(pkg.version);
    const page = sh('man', ['linkcheck'], { env: { MANPATH: path.join(prefix, 'share', 'man'), MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat' } });
    expect(page).toMatch(/linkcheck - audit and repair symlinks/);
  }, 300_000);
});

describe('the man page', () => {
  const man = missingTool('man');
  const gate = toolGate(man);
  beforeAll(() => ensureBuilt());

  const render = (): string => {
    requireTool(man);
    // man -l renders a file; no pager, no hyphenation or justification to split words.
    const r = spawnSync('man', ['-l', path.join(REPO, 'man', 'linkcheck.1')], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '200', MANPAGER: 'cat', PAGER: 'cat', MAN_KEEP_FORMATTING: '', MANROFFOPT: '-rHY=0' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Plain text: no overstrike for bold, no hyphenated line ends.
    return r.stdout.replace(/.\x08/g, '').replace(/[\u2010\u2011]/g, '-');
  };

  it.skipIf(gate.skip)(`renders with man -l and documents every option, command, format, rule and exit code${gate.label}`, () => {
    const text = render();
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'COMMANDS', 'RULES', 'OUTPUT FORMATS', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO'])
      expect(text, section).toMatch(new RegExp(`^${section}$`, 'm'));
    // Every option --help lists, for the scan and for undo.
    const help = spawnCli(['audit', '--help']).stdout + spawnCli(['undo', '--help']).stdout;
    const options = new Set(help.match(/(?<=^\s+(?:-\w, )?)--[a-z-]+/gm));
    expect(options.size).toBeGreaterThan(10);
    for (const o of options) expect(text, o).toMatch(new RegExp(`^\\s+(-\\w, )?${o}\\b`, 'm'));
    for (const c of ['rules', 'explain', 'undo']) expect(text, c).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    for (const f of FORMATS) expect(text, f).toContain(f);
    for (const r of rules) expect(text, r.id).toMatch(new RegExp(`^\\s+${r.code} ${r.id}\\b`, 'm'));
    const exitSection = text.slice(text.indexOf('EXIT STATUS'), text.indexOf('ENVIRONMENT'));
    for (const code of [...Object.values(EXIT), 70]) expect(exitSection, String(code)).toMatch(new RegExp(`^\\s+${code}\\s+\\S`, 'm'));
    expect(text).toContain(`linkcheck ${pkg.version}`);
  });

  it.skipIf(gate.skip)(`has no roff warnings${gate.label}`, () => {
    requireTool(man);
    const r = spawnSync('man', ['--warnings=w', '-l', path.join(REPO, 'man', 'linkcheck.1')], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
