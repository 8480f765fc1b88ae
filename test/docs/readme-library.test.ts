import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, capistrano, JAIL } from '../../fixtures/capistrano.js';
import { ensureBuilt } from '../support/build.js';
import { REPO, libModule } from '../support/repo.js';
import { materialiseTree } from '../support/tree.js';

/** The built library, as `import ... from 'linkcheck'` finds it (package.json "main"). */
const INDEX = libModule();

/** The README's Library section, its js blocks in order. */
function libraryExamples(): string[] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Library\n'), readme.indexOf('\n## ', readme.indexOf('\n## Library\n') + 1));
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe("README's Library examples, run as written on a Capistrano tree", () => {
  let base: string;
  let jail: string;
  const run = (code: string): { status: number | null; out: string; err: string } => {
    // The examples name /srv/lighty and import 'linkcheck': here the tree's copy and this build.
    const script = code.split("'/srv/lighty").join(`'${jail}`).replace(/from 'linkcheck'/g, `from '${INDEX}'`);
    const file = path.join(base, `example-${Math.random().toString(36).slice(2)}.mjs`);
    fs.writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, LINKCHECK_LOCK_DIR: path.join(base, 'locks') } });
    return { status: r.status, out: r.stdout, err: r.stderr };
  };

  beforeAll(() => {
    ensureBuilt();
    base = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'linkcheck-readme-'));
    fs.mkdirSync(path.join(base, 'locks'), { mode: 0o700 });
    materialiseTree(base, capistrano);
    jail = `${base}/${JAIL}`;
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('has the four examples: audit, fix, undo, stream', () => {
    const blocks = libraryExamples();
    expect(blocks.map((b) => /import \{ (\w+) \}/.exec(b)?.[1])).toEqual(['audit', 'fix', 'undo', 'auditStream']);
  });

  it('audits, fixes (dry run, then for real, journaled), undoes the last run, and streams', () => {
    const [auditEx, fixEx, undoEx, streamEx] = libraryExamples() as [string, string, string, string];
    const link = `${jail}${APP}/current`;
    const before = fs.readlinkSync(link);
    expect(before).toBe(`${jail}${APP}/releases/20070506135654`);

    const a = run(auditEx);
    expect(a.err).toBe('');
    const [, links, fixable] = /audit: (\d+) links, (\d+) fixable/.exec(a.out) ?? [];
    expect(Number(links)).toBeGreaterThan(0);
    expect(Number(fixable)).toBeGreaterThan(0);

    const f = run(fixEx);
    expect(f.err).toBe('');
    expect(f.out).toContain(`plan: ${fixable} planned`);
    expect(f.out).toContain(`fix: ${fixable} changed, 0 left to fix`);
    expect(fs.readlinkSync(link)).toBe('releases/20070506135654');
    // One line per change, between the run's begin and end records.
    const lines = fs.readFileSync(`${jail}.linkcheck-journal`, 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.startsWith('{"path":'))).toHaveLength(Number(fixable));
    expect(lines.map((l) => Object.keys(JSON.parse(l) as object)[1])).toEqual(['begin', ...Array<string>(Number(fixable)).fill('old'), 'end']);

    const s = run(streamEx);
    expect(s.err).toBe('');
    expect(s.out).toMatch(/^stream: \d+ links with findings\n$/);

    const u = run(undoEx);
    expect(u.err).toBe('');
    expect(u.out).toContain(`undo: would restore ${fixable}, restored ${fixable}, failed 0`);
    expect(fs.readlinkSync(link)).toBe(before);
  });
});
