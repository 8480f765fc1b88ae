import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createFsFromVolume, Volume } from 'memfs';
import { describe, expect, it } from 'vitest';
import { auditSync } from '../../../src/run/pipeline.js';
import { memFsPort, type NodeLikeFs } from '../../../src/core/fs-port.js';
import { findRule, rules } from '../../../src/rules/registry.js';
import type { Rule, Severity } from '../../../src/rules/types.js';
import { REPO } from '../../support/repo.js';

/** A jail at `root` in memfs: `exists` (dirs end in '/') and `links`, all paths inside the root. */
interface Scene {
  root?: string;
  exists?: string[];
  links: Record<string, string>;
  /** The scanned path inside the root (default: the root). */
  scan?: string;
  options?: Rule['docs']['example']['options'];
}

/** Rules judged as another user or from owners: built on the real disk (the kernel answers), as root. */
const onDisk = (scene: Scene): boolean => scene.options?.asUser !== undefined || scene.options?.owners !== undefined;
const diskReason = process.getuid?.() === 0 ? null : 'needs root (a real disk, another user, chown)';

function auditScene(scene: Scene) {
  if (onDisk(scene)) return auditOnDisk(scene);
  const root = scene.root ?? '/srv/lighty';
  const vfs = createFsFromVolume(new Volume());
  vfs.mkdirSync(root, { recursive: true });
  const inRoot = (p: string): string => (root === '/' ? '' : root) + '/' + p.replace(/^\//, '');
  for (const e of scene.exists ?? []) {
    const p = inRoot(e);
    if (e.endsWith('/')) vfs.mkdirSync(p, { recursive: true });
    else {
      vfs.mkdirSync(path.posix.dirname(p), { recursive: true });
      vfs.writeFileSync(p, 'x');
    }
  }
  for (const [l, t] of Object.entries(scene.links)) {
    const p = inRoot(l);
    vfs.mkdirSync(path.posix.dirname(p), { recursive: true });
    vfs.symlinkSync(t, p);
  }
  const scan = scene.scan === undefined ? root : inRoot(scene.scan);
  return auditSync({ paths: [scan], root, fs: memFsPort(vfs as unknown as NodeLikeFs), ...optionsOf(scene) });
}

/** The scene's audit options (the scene-building keys left out). */
function optionsOf(scene: Scene) {
  const { modes: _m, owners: _o, ...options } = scene.options ?? {};
  return options;
}

/** The scene in a temp dir (the jail at <tmp><root>), with its modes and owners, audited there. */
function auditOnDisk(scene: Scene) {
  const base = nodeFs.realpathSync(nodeFs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-rule-')));
  try {
    nodeFs.chmodSync(base, 0o755);
    const root = base + (scene.root ?? '/srv/lighty');
    nodeFs.mkdirSync(root, { recursive: true, mode: 0o755 });
    const inRoot = (p: string): string => root + '/' + p.replace(/^\//, '');
    for (const e of scene.exists ?? []) {
      if (e.endsWith('/')) nodeFs.mkdirSync(inRoot(e), { recursive: true });
      else {
        nodeFs.mkdirSync(path.dirname(inRoot(e)), { recursive: true });
        nodeFs.writeFileSync(inRoot(e), 'x');
      }
    }
    for (const [l, t] of Object.entries(scene.links)) {
      nodeFs.mkdirSync(path.dirname(inRoot(l)), { recursive: true });
      nodeFs.symlinkSync(t, inRoot(l));
    }
    for (const [p, mode] of Object.entries(scene.options?.modes ?? {})) nodeFs.chmodSync(inRoot(p), mode);
    for (const [p, uid] of Object.entries(scene.options?.owners ?? {})) nodeFs.lchownSync(inRoot(p), uid, uid);
    const scan = scene.scan === undefined ? root : inRoot(scene.scan);
    const res = auditSync({ paths: [scan], root, ...optionsOf(scene) });
    // Paths inside the root read the same as on memfs; host paths are the temp dir's.
    return { ...res, links: res.links.map((l) => ({ ...l, path: l.path.slice(base.length) })) };
  } finally {
    nodeFs.rmSync(base, { recursive: true, force: true });
  }
}

/** The findings of one rule, as `link: severity` lines, for links named in `scene.links`. */
function hitsOf(rule: string, scene: Scene): string[] {
  const res = auditScene(scene);
  const root = scene.root ?? '/srv/lighty';
  const onChecks = (res.checks ?? []).flatMap((c) => c.findings.filter((f) => f.rule === rule).map((f) => `${c.path.slice(root === '/' ? 0 : root.length)}: ${f.severity}`));
  return [...res.links.flatMap((l) => l.findings.filter((f) => f.rule === rule).map((f) => `${l.inside}: ${f.severity}`)), ...onChecks];
}

interface RuleTable {
  valid: Scene[];
  invalid: Array<Scene & { expect: Array<[string, Severity]> }>;
}

const R = '/srv/lighty';
const LAYERS = [
  { index: 0, digest: 'sha256:' + 'a'.repeat(64) },
  { index: 1, digest: null },
];
const conflict = (p: string, kind: 'entry-through-symlink' | 'whiteout-through-symlink' | 'cross-layer-hardlink' = 'entry-through-symlink') => ({ kind, path: p, upper: 1, lower: 0, detail: 'the detail' });
const tables: Record<string, RuleTable> = {
  absolute: {
    valid: [{ links: { 'a/l': '../b' }, exists: ['b/'] }, { links: { 'a/l': 'x//y' } }],
    invalid: [
      { links: { 'a/cap': `${R}/b` }, exists: ['b/'], expect: [['/a/cap', 'error']] },
      { links: { 'a/jail': '/b' }, exists: ['b/'], expect: [['/a/jail', 'warning']] },
      { links: { 'a/none': '/nowhere' }, expect: [['/a/none', 'warning']] },
      // Without a root the views coincide: a resolving absolute link is only noted; one that dangles stays a warning.
      { root: '/', links: { 'a/abs': '/a' }, expect: [['/a/abs', 'info']] },
      { root: '/', links: { 'a/abs': '/nowhere-at-all' }, expect: [['/a/abs', 'warning']] },
    ],
  },
  'escapes-root': {
    valid: [
      { links: { 'a/l': '../b' }, exists: ['b/'] },
      { links: { 'a/l': `${R}/b/../c` } },
      { links: { 'a/l': '/b/../b' }, exists: ['b/'] },
      // '/srv/lighty2' is not the root, even though its text starts with the root's characters.
      { links: { 'a/l': '/srv/lighty2/../../x' } },
    ],
    invalid: [
      { links: { 'a/up': '../../x' }, expect: [['/a/up', 'error']] },
      { links: { up: '../x' }, expect: [['/up', 'error']] },
      { links: { 'a/dd': '/../x' }, expect: [['/a/dd', 'error']] },
      { links: { 'a/pre': `${R}/../x` }, expect: [['/a/pre', 'error']] },
      { links: { 'a/pre2': `/${R}//../x` }, expect: [['/a/pre2', 'error']] },
      { links: { 'a/dd2': '/b/../../b' }, exists: ['b/'], expect: [['/a/dd2', 'error']] },
      // The text stays inside lexically, but on the host a link on the way leads out.
      { links: { 'a/via': '../out', out: '/srv' }, exists: ['srv/'], expect: [['/a/via', 'error'], ['/out', 'error']] },
    ],
  },
  dangling: {
    valid: [
      { links: { 'a/l': '../b' }, exists: ['b/'] },
      { links: { c1: 'c2', c2: 'c1' } },
    ],
    invalid: [
      { links: { 'a/l': '../nope' }, expect: [['/a/l', 'error']] },
      { links: { 'a/f': '../file/' }, exists: ['file'], expect: [['/a/f', 'error']] },
      { links: { 'a/cap': `${R}/b` }, exists: ['b/'], expect: [['/a/cap', 'error']] },
    ],
  },
  loop: {
    valid: [{ links: { 'a/l': '../b' }, exists: ['b/'] }],
    invalid: [
      { links: { c1: 'c2', c2: 'c1' }, expect: [['/c1', 'error'], ['/c2', 'error']] },
      { links: { self: 'self/x' }, expect: [['/self', 'error']] },
    ],
  },
  'view-mismatch': {
    valid: [
      { links: { 'a/l': '../b' }, exists: ['b/'] },
      { links: { 'a/l': '../nope' } },
    ],
    invalid: [
      { links: { 'a/jail': '/b' }, exists: ['b/'], expect: [['/a/jail', 'warning']] },
      { links: { 'a/cap': `${R}/b` }, exists: ['b/'], expect: [['/a/cap', 'warning']] },
    ],
  },
  'non-canonical': {
    valid: [
      { links: { 'a/l': '../b' } },
      { links: { 'a/l': '.' } },
      { links: { 'a/l': '../../..' } },
      { links: { 'a/l': '/' } },
    ],
    invalid: [
      { links: { 'a/l': '..//b' }, expect: [['/a/l', 'info']] },
      { links: { 'a/l': '../b/./c' }, expect: [['/a/l', 'info']] },
      { links: { 'a/l': 'b/../c' }, expect: [['/a/l', 'info']] },
      { links: { 'a/l': '../b/' }, expect: [['/a/l', 'info']] },
      { links: { 'a/l': './b' }, expect: [['/a/l', 'info']] },
    ],
  },
  unreadable: { valid: [{ links: { 'a/l': '../b' } }], invalid: [] },
  requirement: {
    valid: [
      // Without --require nothing is asked.
      { links: { current: 'shared' }, exists: ['shared/'] },
      { links: { current: 'releases/2' }, exists: ['releases/2/'], options: { require: ['current=releases/*'] } },
      { links: { current: '/releases/2' }, exists: ['releases/2/'], options: { require: ['current'] } },
      // Scanned below the root: the glob is relative to the scanned path.
      { scan: '/app', links: { 'app/current': 'releases/1' }, exists: ['app/releases/1/'], options: { require: ['current=releases/*'] } },
      { exists: ['shared/log/'], links: {}, options: { require: ['shared/log'] } },
    ],
    invalid: [
      { links: { current: 'shared' }, exists: ['shared/'], options: { require: ['current=releases/*'] }, expect: [['/current', 'error']] },
      { links: { current: 'releases/9' }, exists: ['releases/1/'], options: { require: ['current'] }, expect: [['/current', 'error']] },
      // Not a link: judged after the walk, on the path itself.
      { links: {}, exists: ['shared/'], options: { require: ['shared/log'] }, expect: [['/shared/log', 'error']] },
      { links: {}, exists: ['current/'], options: { require: ['current=releases/*'] }, expect: [['/current', 'error']] },
    ],
  },
  'deploy-layout': {
    valid: [
      { links: { current: 'releases/2', 'releases/2/log': '../../shared/log' }, exists: ['releases/1/', 'releases/2/', 'shared/log/'], options: { preset: 'deploy' } },
      // Without the preset nothing of the layout is judged.
      { links: { current: 'releases/1' }, exists: ['releases/1/', 'releases/2/'] },
    ],
    invalid: [
      // A rollback: not the newest release.
      { links: { current: 'releases/1' }, exists: ['releases/1/', 'releases/2/'], options: { preset: 'deploy' }, expect: [['/current', 'warning']] },
      { links: { current: 'shared' }, exists: ['releases/1/', 'shared/'], options: { preset: 'deploy' }, expect: [['/current', 'error']] },
      { links: { current: 'releases/1/app' }, exists: ['releases/1/app/'], options: { preset: 'deploy' }, expect: [['/current', 'error']] },
      { links: {}, exists: ['releases/1/'], options: { preset: 'deploy' }, expect: [['/current', 'error']] },
      {
        links: { current: 'releases/2', 'releases/2/log': '../../shared/log' },
        exists: ['releases/2/', 'shared/'],
        options: { preset: 'deploy' },
        expect: [['/releases/2/log', 'error']],
      },
      {
        links: { current: 'releases/2', 'releases/2/old': '/releases/1/public' },
        exists: ['releases/2/'],
        options: { preset: 'deploy' },
        expect: [['/releases/2/old', 'error']],
      },
    ],
  },
  'runtime-mount': {
    valid: [
      { links: { 'dev/fd': '/proc/self/fd' }, exists: ['proc/'] },
      { links: { 'etc/x': '../usr/x' }, exists: ['usr/x'], options: { preset: 'rootfs' } },
    ],
    invalid: [
      { links: { 'dev/fd': '/proc/self/fd' }, exists: ['proc/'], options: { preset: 'rootfs' }, expect: [['/dev/fd', 'info']] },
      { links: { 'etc/mtab': '../proc/self/mounts' }, exists: ['proc/'], options: { preset: 'rootfs' }, expect: [['/etc/mtab', 'info']] },
      { links: { 'var/run': '/run' }, exists: ['run/'], options: { preset: 'rootfs' }, expect: [['/var/run', 'info']] },
      { links: { 'dev/ptmx': 'pts/ptmx' }, exists: ['dev/pts/'], options: { preset: 'rootfs' }, expect: [['/dev/ptmx', 'info']] },
      // A sysroot is a root file system too.
      { links: { 'dev/fd': '/proc/self/fd' }, exists: ['proc/'], options: { preset: 'sysroot' }, expect: [['/dev/fd', 'info']] },
    ],
  },
  // On the real disk as root, judged as nobody (see auditOnDisk): the kernel answers the searches.
  'no-access': {
    valid: [
      { links: { current: 'releases/1' }, exists: ['releases/1/index.html'], options: { asUser: 'nobody' } },
      // Without --as-user the reader is the caller (root).
      { links: { current: 'releases/1' }, exists: ['releases/1/'], options: { modes: { 'releases/1/': 0o700 }, owners: {} } },
      // Dangling is dangling, whoever looks.
      { links: { current: 'releases/9' }, exists: ['releases/1/'], options: { asUser: 'nobody' } },
    ],
    invalid: [
      { links: { current: 'releases/1' }, exists: ['releases/1/'], options: { asUser: 'nobody', modes: { 'releases/1/': 0o700 } }, expect: [['/current', 'error']] },
      // Through a directory it cannot search, on the way or before '..'.
      { links: { 'a/l': '../locked/x' }, exists: ['a/', 'locked/x'], options: { asUser: 'nobody', modes: { 'locked/': 0o700 } }, expect: [['/a/l', 'error']] },
      { links: { 'a/l': '../locked/../b' }, exists: ['a/', 'locked/', 'b'], options: { asUser: 'nobody', modes: { 'locked/': 0o700 } }, expect: [['/a/l', 'error']] },
      // A link inside a directory it cannot search: listed by the walk, refused to the reader.
      { links: { 'locked/l': '../b' }, exists: ['locked/', 'b'], options: { asUser: 'nobody', modes: { 'locked/': 0o750 } }, expect: [['/locked/l', 'error']] },
    ],
  },
  'owner-mismatch': {
    valid: [
      { links: { 'site/logo': '../assets/logo' }, exists: ['site/', 'assets/logo'], options: { rules: { 'owner-mismatch': 'error' }, owners: {} } },
      // Off unless switched on.
      { links: { 'site/logo': '../assets/logo' }, exists: ['site/', 'assets/logo'], options: { owners: { 'site/logo': 1000 } } },
      // A link that does not resolve has no target to own.
      { links: { 'site/logo': '../assets/none' }, exists: ['site/'], options: { rules: { 'owner-mismatch': 'error' }, owners: { 'site/logo': 1000 } } },
    ],
    invalid: [
      { links: { 'site/logo': '../assets/logo' }, exists: ['site/', 'assets/logo'], options: { rules: { 'owner-mismatch': 'error' }, owners: { 'site/logo': 1000 } }, expect: [['/site/logo', 'error']] },
      { links: { 'site/logo': '../assets/logo' }, exists: ['site/', 'assets/logo'], options: { rules: { 'owner-mismatch': 'warning' }, owners: { 'assets/logo': 33 } }, expect: [['/site/logo', 'warning']] },
    ],
  },
  'layer-ambiguity': {
    valid: [
      // Not an image: nothing to judge.
      { root: '/', links: { 'lib/x': '../usr/lib/x' }, exists: ['usr/lib/x'] },
      // An image whose layers agree.
      { root: '/', links: { 'lib/x': '../usr/lib/x' }, exists: ['usr/lib/x'], options: { image: { layers: LAYERS, ambiguities: [] } } },
      // A conflict outside the scanned path is not this scan's.
      { root: '/', scan: 'srv', exists: ['srv/', 'etc/'], links: {}, options: { image: { layers: LAYERS, ambiguities: [conflict('/etc/x')] } } },
    ],
    invalid: [
      // On a link: among its findings.
      { root: '/', links: { 'lib/x': '../usr/lib/x' }, exists: ['usr/lib/x'], options: { image: { layers: LAYERS, ambiguities: [conflict('/lib/x')] } }, expect: [['/lib/x', 'warning']] },
      // On a file, and on a path the merged root does not hold (a whiteout's): a check of its own.
      { root: '/', links: {}, exists: ['bin/hello'], options: { image: { layers: LAYERS, ambiguities: [conflict('/bin/hello'), conflict('/gone/x', 'whiteout-through-symlink')] } }, expect: [['/bin/hello', 'warning'], ['/gone/x', 'warning']] },
      // Its level is the config's, like any rule's.
      { root: '/', links: {}, exists: ['bin/hello'], options: { rules: { 'layer-ambiguity': 'error' }, image: { layers: LAYERS, ambiguities: [conflict('/bin/hello', 'cross-layer-hardlink')] } }, expect: [['/bin/hello', 'error']] },
    ],
  },
};

describe.each(Object.entries(tables))('rule %s', (id, table) => {
  const skip = (scene: Scene): boolean => onDisk(scene) && diskReason !== null && (console.log(`${id}: skipped, ${diskReason}`), true);
  it.each(table.valid.map((s, i) => [i, s] as const))('valid #%i', (_i, scene) => {
    if (skip(scene)) return;
    expect(hitsOf(id, scene)).toEqual([]);
  });
  it.each(table.invalid.map((s, i) => [i, s] as const))('invalid #%i', (_i, scene) => {
    if (skip(scene)) return;
    expect(hitsOf(id, scene).sort()).toEqual(scene.expect.map(([l, s]) => `${l}: ${s}`).sort());
  });
});

describe('the rule registry', () => {
  const dir = path.join(REPO, 'src/rules');
  const files = nodeFs.readdirSync(dir).filter((f) => f.endsWith('.ts') && !['registry.ts', 'types.ts', 'words.ts', 'messages.ts'].includes(f));

  it('registers every rule file, each named like its id', () => {
    expect(files.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual(rules.map((r) => r.id).sort());
  });

  it('gives every rule a unique, stable-looking code and a table of tests', () => {
    const codes = rules.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^LC\d{3}$/);
    expect(Object.keys(tables).sort()).toEqual(rules.map((r) => r.id).sort());
  });

  it.each(rules.map((r) => [r.id, r] as const))('documents %s fully', (_id, rule: Rule) => {
    for (const k of ['what', 'why', 'fix'] as const) expect(rule.docs[k].length, k).toBeGreaterThan(20);
    expect(rule.title.length).toBeGreaterThan(5);
    expect(findRule(rule.code)).toBe(rule);
    expect(findRule(rule.id)).toBe(rule);
  });

  it.each(rules.filter((r) => r.id !== 'unreadable').map((r) => [r.id, r] as const))(
    'the doc example of %s yields exactly one finding of it, on the example link',
    (_id, rule: Rule) => {
      const ex = rule.docs.example;
      if (onDisk({ links: {}, options: ex.options }) && diskReason !== null) return void console.log(`${rule.id}: example skipped, ${diskReason}`);
      const res = auditScene({ root: ex.root, exists: ex.exists ?? [], links: { [ex.link]: ex.text, ...(ex.links ?? {}) }, scan: ex.scan, options: ex.options });
      const onLink = res.links.find((l) => l.inside === ex.link)!;
      expect(onLink.findings.filter((f) => f.rule === rule.id)).toHaveLength(1);
      // Not also on the path as a separate check.
      expect((res.checks ?? []).flatMap((c) => c.findings).filter((f) => f.rule === rule.id)).toHaveLength(0);
    },
  );
});

describe('layer-ambiguity names both layers', () => {
  it('upper and lower, by index and the start of the digest, then what happened', () => {
    const res = auditScene({ root: '/', links: {}, exists: ['bin/hello'], options: { image: { layers: LAYERS, ambiguities: [conflict('/bin/hello', 'cross-layer-hardlink')] } } });
    const [f] = (res.checks ?? []).flatMap((c) => c.findings);
    expect(f).toMatchObject({ rule: 'layer-ambiguity', code: 'LC013', severity: 'warning' });
    expect((f as { message: string }).message).toBe(`/bin/hello is a hard link to a file of a lower layer: layer 1 over layer 0 (sha256:${'a'.repeat(12)}): the detail`);
  });
});
