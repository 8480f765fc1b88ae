import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, type Graph, importsOf, moduleGraph } from '../../support/import-graph.js';
import { REPO } from '../../support/repo.js';

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

/**
 * The folders of src/, lowest first: a module may import its own folder and the folders below
 * it, never one above (cli -> the library's calls -> run -> report, fix -> audit -> image, walk ->
 * config -> rules -> resolve -> core). '' is the top of src/ (index.ts, api.ts).
 */
const FOLDER_ORDER = ['core', 'resolve', 'rules', 'config', 'walk', 'image', 'audit', 'fix', 'report', 'run', '', 'cli'] as const;

const folderOf = (m: string): string => (m.includes('/') ? m.slice(0, m.indexOf('/')) : '');

/** Imports that go against the folder order, and report/ modules that read more of audit/ than its records. */
function wrongWay(graph: Graph): string[] {
  const rank = (m: string): number => FOLDER_ORDER.indexOf(folderOf(m) as (typeof FOLDER_ORDER)[number]);
  const out: string[] = [];
  for (const [from, deps] of graph)
    for (const to of deps) {
      if (rank(to) > rank(from)) out.push(`${from} -> ${to}`);
      else if (folderOf(from) === 'report' && folderOf(to) === 'audit' && to !== 'audit/records.ts') out.push(`${from} -> ${to} (report reads records only)`);
    }
  return out.sort();
}

describe("src/'s module graph", () => {
  const graph = moduleGraph(SRC);

  it('is read whole: every module is there with what it imports', () => {
    expect(graph.size).toBeGreaterThan(60);
    expect(graph.get('cli/program.ts')).toContain('cli/audit-job.ts');
    expect(graph.get('cli/audit-job.ts')).toContain('cli/audit-roots.ts');
    expect(graph.get('cli/audit-roots.ts')).toContain('run/pipeline.ts');
    expect(graph.get('fix/apply.ts')).toContain('fix/journal.ts');
    // Imported modules exist: a misread specifier would show up as a module with no file.
    for (const deps of graph.values()) for (const d of deps) expect(graph.has(d), d).toBe(true);
  });

  it('has a folder for every module but the two at the top, each folder in the order', () => {
    const top = [...graph.keys()].filter((m) => folderOf(m) === '');
    expect(top.sort()).toEqual(['api.ts', 'index.ts']);
    for (const m of graph.keys()) expect(FOLDER_ORDER, m).toContain(folderOf(m));
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('imports only down the folder order: cli -> api -> run -> report, fix -> audit -> walk -> config -> rules -> resolve -> core', () => {
    expect(wrongWay(graph)).toEqual([]);
  });

  it('keeps the audit (judge, resolver, rules, walk) free of fix/: the planner asks the auditor, not the other way', () => {
    const audit = reachable(graph, 'audit/auditor.ts');
    expect(audit).toContain('audit/judge.ts');
    expect(audit).toContain('resolve/resolver.ts');
    expect([...audit].filter((m) => m.startsWith('fix/'))).toEqual([]);
  });

  it('puts the worker protocol in one module that imports neither end of the thread pair', () => {
    for (const end of ['run/threads.ts', 'run/audit-worker.ts', 'run/sink.ts']) expect(graph.get(end)).toContain('run/worker-protocol.ts');
    expect(graph.get('run/audit-worker.ts')).not.toContain('run/threads.ts');
    expect(reachable(graph, 'run/worker-protocol.ts')).not.toContain('run/threads.ts');
  });

  it('has no two modules whose names differ by a letter or two (one name, one idea)', () => {
    const names = [...graph.keys()].map((m) => m.slice(m.lastIndexOf('/') + 1, -3));
    const close: string[] = [];
    for (let i = 0; i < names.length; i++)
      for (let j = i + 1; j < names.length; j++) if (editDistance(names[i]!, names[j]!) <= 1) close.push(`${names[i]} ~ ${names[j]}`);
    expect(close).toEqual([]);
  });
});

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

describe('the checks themselves (positive controls)', () => {
  it('catches a planted wrong-way import and a report that reads the auditor', () => {
    const planted = new Map(moduleGraph(SRC));
    planted.set('core/paths.ts', [...(planted.get('core/paths.ts') ?? []), 'rules/registry.ts']);
    planted.set('report/formats/json.ts', [...(planted.get('report/formats/json.ts') ?? []), 'audit/auditor.ts']);
    planted.set('run/pipeline.ts', [...(planted.get('run/pipeline.ts') ?? []), 'cli/program.ts']);
    expect(wrongWay(planted)).toEqual(['core/paths.ts -> rules/registry.ts', 'report/formats/json.ts -> audit/auditor.ts (report reads records only)', 'run/pipeline.ts -> cli/program.ts']);
  });

  it('measures names a letter apart', () => {
    expect(editDistance('runtime-mount', 'runtime-mounts')).toBe(1);
    expect(editDistance('plan', 'planner')).toBe(3);
  });

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
