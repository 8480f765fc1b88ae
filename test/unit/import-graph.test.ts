import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, type Graph, importsOf, moduleGraph } from '../support/import-graph.js';
import { REPO } from '../support/repo.js';

const SRC = path.join(REPO, 'src');

/** Every module `from` reaches through its imports, itself included. */
function reachable(graph: Graph, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  for (let m = todo.pop(); m !== undefined; m = todo.pop()) {
    if (seen.has(m)) continue;
    seen.add(m);
    todo.push(...(graph.get(m) ?? []));
  }
  return seen;
}

describe("src/'s module graph", () => {
  const graph = moduleGraph(SRC);

  it('is read whole: every module is there with what it imports', () => {
    expect(graph.size).toBeGreaterThan(60);
    expect(graph.get('cli.ts')).toContain('scan-job.ts');
    expect(graph.get('scan-job.ts')).toContain('scan.ts');
    expect(graph.get('scan.ts')).toContain('pipeline.ts');
    expect(graph.get('fix/apply.ts')).toContain('fix/journal.ts');
    // Imported modules exist: a misread specifier would show up as a module with no file.
    for (const deps of graph.values()) for (const d of deps) expect(graph.has(d), d).toBe(true);
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps the audit (judge, resolver, rules, walk) free of fix/: the planner asks the judge, not the other way', () => {
    const audit = reachable(graph, 'audit.ts');
    expect(audit).toContain('judge.ts');
    expect(audit).toContain('resolve.ts');
    expect([...audit].filter((m) => m.startsWith('fix/'))).toEqual([]);
  });

  it('puts the worker protocol in one module that imports neither end of the thread pair', () => {
    for (const end of ['parallel.ts', 'audit-worker.ts', 'audit-sink.ts']) expect(graph.get(end)).toContain('worker-protocol.ts');
    expect(graph.get('audit-worker.ts')).not.toContain('parallel.ts');
    expect(reachable(graph, 'worker-protocol.ts')).not.toContain('parallel.ts');
  });
});

describe('the checks themselves (positive controls)', () => {
  it('finds a cycle of two, a longer one and a module importing itself', () => {
    const g: Graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['a.ts', 'c.ts']],
      ['c.ts', []],
      ['d.ts', ['e.ts']],
      ['e.ts', ['f.ts']],
      ['f.ts', ['d.ts']],
      ['g.ts', ['g.ts']],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts'], ['d.ts', 'e.ts', 'f.ts'], ['g.ts']]);
  });

  it('finds no cycle in a diamond', () => {
    const g: Graph = new Map([
      ['a.ts', ['b.ts', 'c.ts']],
      ['b.ts', ['d.ts']],
      ['c.ts', ['d.ts']],
      ['d.ts', []],
    ]);
    expect(cycles(g)).toEqual([]);
  });

  it('reads every form of import and ignores commented-out ones', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      'import {',
      '  c,',
      "  type C2 } from './c.js';",
      "export { d } from './d.js';",
      "export type { E } from './e.js';",
      "export * from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "// import { x } from './x.js';",
      "/* import { y } from './y.js'; */",
      "const s = `import { z } from './z.js'`;",
    ].join('\n');
    expect(importsOf(src).sort()).toEqual(['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './g.js', './h.js']);
  });
});
