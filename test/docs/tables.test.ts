/**
 * The README's exit codes and rules tables, and the man page's exit status list, held equal to the
 * code; and every relative link in README.md and docs/*.md leads to a file (and heading) that
 * exists. Each parser has a positive control: a planted wrong row or link is found.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { rules } from '../../src/rules/registry.js';
import { REPO } from '../support/repo.js';

const read = (file: string): string => fs.readFileSync(path.join(REPO, file), 'utf8');

/** Fenced code blocks blanked out (line count kept), so nothing inside one is read as Markdown. */
function withoutFences(md: string): string {
  let inFence = false;
  return md
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        return '';
      }
      return inFence ? '' : line;
    })
    .join('\n');
}

/** A table row's cells, trimmed; `\|` inside a cell is a literal bar. */
function cells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** The body rows of the one Markdown table whose header is exactly `header`. */
function markdownTable(md: string, header: readonly string[]): string[][] {
  const lines = withoutFences(md).split('\n');
  const found: string[][][] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.trim().startsWith('|') || !/^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1]!)) continue;
    if (JSON.stringify(cells(lines[i]!)) !== JSON.stringify(header)) continue;
    const rows: string[][] = [];
    for (let j = i + 2; j < lines.length && lines[j]!.trim().startsWith('|'); j++) rows.push(cells(lines[j]!));
    found.push(rows);
  }
  if (found.length !== 1) throw new Error(`expected one table headed | ${header.join(' | ')} |, found ${found.length}`);
  return found[0]!;
}

/** The exit codes of a `| code | meaning |` table, in row order. */
function readmeExitCodes(md: string): number[] {
  return markdownTable(md, ['code', 'meaning']).map((r) => {
    if (!/^\d+$/.test(r[0]!)) throw new Error(`not an exit code: ${r[0]}`);
    return Number(r[0]);
  });
}

/** The `| code | id | severity | flags |` table: [code, id, severity cell] per row, in order. */
function readmeRules(md: string): Array<[string, string, string]> {
  return markdownTable(md, ['code', 'id', 'severity', 'flags']).map((r) => [r[0]!, r[1]!.replace(/^`|`$/g, ''), r[2]!]);
}

/** The codes of the man page's EXIT STATUS section: each `.TP` followed by `.B <code>`. */
function manExitCodes(roff: string): number[] {
  const start = roff.indexOf('\n.SH EXIT STATUS\n');
  if (start < 0) throw new Error('no .SH EXIT STATUS in the man page');
  const end = roff.indexOf('\n.SH ', start + 1);
  const section = roff.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\.TP\n\.B (\S+)$/gm)].map((m) => {
    if (!/^\d+$/.test(m[1]!)) throw new Error(`not an exit code: ${m[1]}`);
    return Number(m[1]);
  });
}

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

describe('the exit codes: README table and man page equal to EXIT_CODES', () => {
  const code = sorted(EXIT_CODES.map(([c]) => c));

  it('the code lists some, each once', () => {
    expect(code.length).toBeGreaterThan(3);
    expect(new Set(code).size).toBe(code.length);
  });

  it("the README's | code | meaning | table has exactly those codes, each once", () => {
    const readme = readmeExitCodes(read('README.md'));
    expect(new Set(readme).size).toBe(readme.length);
    expect(sorted(readme)).toEqual(code);
  });

  it("the man page's EXIT STATUS has exactly those codes, each once", () => {
    const man = manExitCodes(read('man/linkcheck.1'));
    expect(new Set(man).size).toBe(man.length);
    expect(sorted(man)).toEqual(code);
  });

  it('positive control: a planted row in either is found and breaks the equality', () => {
    const readme = read('README.md').replace('| 70 |', '| 3 | planted: no such exit code |\n| 70 |');
    expect(readmeExitCodes(readme)).toContain(3);
    expect(sorted(readmeExitCodes(readme))).not.toEqual(code);
    const man = read('man/linkcheck.1').replace('.TP\n.B 70\n', '.TP\n.B 3\nPlanted.\n.TP\n.B 70\n');
    expect(manExitCodes(man)).toContain(3);
    expect(sorted(manExitCodes(man))).not.toEqual(code);
    // A row taken out is missed as well.
    const fewer = read('README.md').replace(/^\| 75 \|.*\n/m, '');
    expect(sorted(readmeExitCodes(fewer))).not.toEqual(code);
  });
});

describe("the README's rules table equal to src/rules", () => {
  const code = rules.map((r) => [r.code, r.id]);

  it('lists every rule, code and id, row by row in code order', () => {
    const readme = readmeRules(read('README.md'));
    expect(readme.map(([c, id]) => [c, id])).toEqual(code);
  });

  it("names each rule's default severity in its severity cell", () => {
    const readme = readmeRules(read('README.md'));
    for (const [i, r] of rules.entries()) expect(readme[i]![2], r.id).toMatch(new RegExp(`\\b${r.severity}\\b`));
  });

  it('positive control: a planted row, or two ids swapped, is found', () => {
    const text = read('README.md');
    const planted = text.replace('| LC002 |', '| LC099 | `planted` | error | nothing |\n| LC002 |');
    expect(readmeRules(planted).map(([c]) => c)).toContain('LC099');
    expect(readmeRules(planted).map(([c, id]) => [c, id])).not.toEqual(code);
    const swapped = text.replace('| LC004 | `loop` |', '| LC004 | `dangling` |').replace('| LC003 | `dangling` |', '| LC003 | `loop` |');
    expect(swapped).not.toBe(text);
    expect(readmeRules(swapped).map(([c, id]) => [c, id])).not.toEqual(code);
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutFences(md).split('\n')) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const text = h[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every inline link target outside code, with its line: `[text](target)`. */
function links(md: string): Array<{ target: string; line: number }> {
  const out: Array<{ target: string; line: number }> = [];
  for (const [i, raw] of withoutFences(md).split('\n').entries()) {
    const line = raw.replace(/`[^`]*`/g, 'code');
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ target: m[1]!, line: i + 1 });
  }
  return out;
}

/** The relative links of `file` (repo-relative) that lead nowhere: a missing file, or a missing heading. */
function brokenLinks(file: string, md: string, readFile: (f: string) => string | null): string[] {
  const broken: string[] = [];
  for (const { target, line } of links(md)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [p, hash] = target.split('#', 2) as [string, string | undefined];
    const dest = p === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURIComponent(p)));
    const where = `${file}:${line}: ${target}`;
    if (dest.startsWith('../') || !fs.existsSync(path.join(REPO, dest))) {
      broken.push(`${where} (no ${dest})`);
      continue;
    }
    if (hash === undefined || !dest.endsWith('.md')) continue;
    const text = readFile(dest);
    if (text === null || !anchors(text).has(hash)) broken.push(`${where} (no heading #${hash} in ${dest})`);
  }
  return broken;
}

describe('relative links in README.md and docs/*.md', () => {
  const files = ['README.md', ...fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const readFile = (f: string): string | null => (fs.existsSync(path.join(REPO, f)) ? read(f) : null);

  it('reads the README and the docs pages, and finds links in them', () => {
    expect(files.length).toBeGreaterThan(5);
    expect(links(read('README.md')).length).toBeGreaterThan(10);
  });

  it.each(files)('%s: every relative link leads to a file that exists, and to a heading there', (file) => {
    expect(brokenLinks(file, read(file), readFile)).toEqual([]);
  });

  it('every docs/ page is linked from the README', () => {
    const linked = new Set(links(read('README.md')).map((l) => l.target.split('#')[0]));
    const pages = fs.readdirSync(path.join(REPO, 'docs')).map((f) => `docs/${f}`);
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });

  it('positive control: a missing file, a missing heading and a link out of the checkout are found', () => {
    const md = ['See [gone](docs/no-such-page.md), [ok](docs/usage.md#progress),', '[bad](docs/usage.md#no-such-heading), [out](../elsewhere.md) and [here](#the-story).', '```', '[in a fence](docs/fenced-away.md)', '```'].join('\n');
    const broken = brokenLinks('README.md', md, readFile);
    expect(broken).toHaveLength(3);
    expect(broken[0]).toContain('no docs/no-such-page.md');
    expect(broken[1]).toContain('no heading #no-such-heading in docs/usage.md');
    expect(broken[2]).toContain('../elsewhere.md');
  });

  it("positive control: the anchors are GitHub's", () => {
    const md = '# How `--fix` works\n## Results (2026-12-01, second round): a, b\n## Plan\n## Plan\n```\n# not a heading\n```\n';
    expect([...anchors(md)]).toEqual(['how---fix-works', 'results-2026-12-01-second-round-a-b', 'plan', 'plan-1']);
  });
});
