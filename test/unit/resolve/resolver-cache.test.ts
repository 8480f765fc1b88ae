import { afterAll, describe, expect, it } from 'vitest';
import type { Tree } from '../../../fixtures/tree.js';
import { nodeFsPort } from '../../../src/core/fs-port.js';
import { Resolver, type View } from '../../../src/resolve/resolver.js';
import { walk } from '../../../src/walk/walk.js';
import { randomTree } from '../../support/random-tree.js';
import { memfsSandbox } from '../../support/sandbox.js';
import { listLinks, materialiseRandom } from '../../support/tree.js';

// What the resolver has cached must never change an answer: a resolver that drops its cache
// before nearly every walk (so directories are found again from whatever ancestor is left),
// one that has been told every listing the way the walk tells it, and a plain one must agree on
// every link of the random adversarial trees, in both views. The kernel tests hold the plain
// one to the kernel.

function answers(resolver: Resolver, root: string, links: readonly string[], text: (p: string) => string): string[] {
  const views: View[] = [{ rootHost: root }, { rootHost: '' }];
  const out: string[] = [];
  for (const p of links) {
    const i = p.lastIndexOf('/');
    for (const v of views) out.push(`${p} ${v.rootHost ? 'jail' : 'host'} ${JSON.stringify(resolver.resolveLink(v, p.slice(0, i), p.slice(i + 1), text(p)))}`);
  }
  return out;
}

describe('resolver cache', () => {
  const made: Array<{ cleanup(): void }> = [];
  afterAll(() => made.forEach((m) => m.cleanup()));

  it.each([1, 2, 3, 4])('answers the same however much it has cached (random tree %i)', (seed) => {
    const m = materialiseRandom(randomTree(seed, { links: 300 }), 'linkcheck-cache-');
    made.push(m);
    const fs = nodeFsPort();
    const links = listLinks(m.root);
    const text = (p: string): string => fs.readlink(p);
    const plain = answers(new Resolver(fs), m.root, links, text);
    const forgetful = answers(new Resolver(fs, { cacheLimit: 2 }), m.root, links, text);
    const primed = new Resolver(fs);
    for (const _ of walk(fs, m.root, { onListing: (dir, entries) => primed.primeDir(dir, entries) }));
    expect(links.length).toBeGreaterThan(100);
    expect(forgetful).toEqual(plain);
    expect(answers(primed, m.root, links, text)).toEqual(plain);
  });

  // A link's directory as the walk named it, when that is no longer a directory: the walk
  // raced a change, and the link cannot be where it was found.
  const tree: Tree = { d: { e: { l: { link: '../f' } }, f: 'file' }, file: 'x', sym: { link: 'd' } };
  it.each([
    ['a directory that is there', '/base/d/e', 'ok', null],
    ['a directory that is gone', '/base/d/gone', 'dangling', '/base/d/gone'],
    ['a path through a file', '/base/file/e', 'dangling', '/base/file/e'],
    ['a path through a link', '/base/sym/e', 'dangling', '/base/sym/e'],
  ])('starts from %s', (_what, dir, status, failedAt) => {
    const sb = memfsSandbox(tree);
    for (const resolver of [new Resolver(sb.fs), new Resolver(sb.fs, { cacheLimit: 0 })]) {
      const r = resolver.resolveLink({ rootHost: '' }, dir, 'l', '../f');
      expect(r.status).toBe(status);
      expect(r.failedAt).toBe(failedAt);
      if (status === 'ok') expect(r.resolved).toBe('/base/d/f');
    }
  });
});
