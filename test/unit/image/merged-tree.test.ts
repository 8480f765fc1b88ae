import { describe, expect, it } from 'vitest';
import { pathComponents, pathOfSteps, type TreeNode, walkTree } from '../../../src/image/merged-tree.js';
import { mergeLayers } from './image-builder.js';

const tree = await mergeLayers([
  { name: 'b/', type: 'dir' },
  { name: 'f', content: 'x' },
  { name: 'via-missing', type: 'symlink', linkname: 'missing/../b' },
  { name: 'to-missing', type: 'symlink', linkname: '/new/dir' },
]);

const walk = (path: string, lexicalMissing: boolean, followLast = true): string => {
  const r = walkTree(tree.root, pathComponents(path), { followLast, lexicalMissing });
  return typeof r === 'string' ? r : pathOfSteps(r) + (r[r.length - 1]!.node === null ? ' (missing)' : '');
};

describe('walking the merged tree', () => {
  it('as the kernel does: the first missing name ends it', () => {
    expect(walk('/via-missing', false)).toBe('ENOENT');
    expect(walk('/to-missing/x', false)).toBe('ENOENT');
    expect(walk('/f/x', false)).toBe('ENOTDIR');
    expect(walk('/f/.', false)).toBe('ENOTDIR');
    expect(walk('/via-missing', false, false)).toBe('/via-missing');
  });

  it('as an unpacker making parents does (filepath-securejoin): missing names carried on lexically', () => {
    expect(walk('/via-missing', true)).toBe('/b');
    expect(walk('/to-missing/x', true)).toBe('/new/dir/x (missing)');
    expect(walk('/nope/../b', true)).toBe('/b');
    expect(walk('/f/x', true)).toBe('ENOTDIR');
  });

  it('reports each link it follows, with its path', () => {
    const seen: string[] = [];
    walkTree(tree.root, pathComponents('/via-missing'), { followLast: true, lexicalMissing: true, onLink: (l: TreeNode, at) => seen.push(`${at} ${l.inode.text}`) });
    expect(seen).toEqual(['/via-missing missing/../b']);
  });

  it('splits paths so that a trailing slash demands a directory', () => {
    expect(pathComponents('/a/b/')).toEqual(['', 'a', 'b', '.']);
    expect(pathComponents('/')).toEqual(['', '']);
    expect(walk('/f/', false)).toBe('ENOTDIR');
    expect(walk('/b/', false)).toBe('/b');
  });
});
