import { describe, expect, it } from 'vitest';
import { APP, capistrano, JAIL } from '../../../fixtures/capistrano.js';
import type { FsPort } from '../../../src/core/fs-port.js';
import { runCliInProcess } from '../../support/cli.js';
import { memfsSandbox } from '../../support/sandbox.js';

/** `fs` with its directory listings counted. */
function countingListings(fs: FsPort): { fs: FsPort; listings: () => number } {
  let n = 0;
  const counted: FsPort = Object.create(fs) as FsPort;
  counted.readdir = (dir) => {
    n++;
    return fs.readdir(dir);
  };
  return { fs: counted, listings: () => n };
}

describe('the pipeline', () => {
  it('walks the tree once for --fix on one thread: the report after the fix replays the walk', async () => {
    const listingsFor = async (args: string[]): Promise<{ listings: number; json: { changes: unknown[]; summary: { directories: number } } }> => {
      const sb = memfsSandbox(capistrano);
      const root = `${sb.base}/${JAIL}`;
      const c = countingListings(sb.fs);
      const r = await runCliInProcess([root + APP, '--root', root, '-j', '1', '--format', 'json', ...args], { fs: c.fs });
      expect(r.stderr).toBe('');
      return { listings: c.listings(), json: JSON.parse(r.stdout) };
    };
    const audit = await listingsFor([]);
    const fix = await listingsFor(['--fix']);
    // Positive control: the fix did change links, so a second walk would have had work to do.
    expect(fix.json.changes.length).toBeGreaterThan(0);
    expect(audit.listings).toBeGreaterThan(0);
    expect(fix.json.summary.directories).toBe(audit.json.summary.directories);
    // A walk lists every directory once (17 here): two walks list each twice. The fixer's
    // confirmation may list a directory of its own, never all of them again.
    expect(audit.listings).toBe(audit.json.summary.directories);
    expect(fix.listings).toBeLessThan(2 * audit.listings);
  });
});

describe('library results', () => {
  it('carry every finding with its words, as the JSON report gives them, from audit(), fix(), auditSync() and auditStream()', async () => {
    const { audit, auditStream, auditSync, fix } = await import('../../../src/index.js');
    const sb = memfsSandbox(capistrano);
    const root = `${sb.base}/${JAIL}`;
    const options = { paths: [root + APP], root, fs: sb.fs };
    const r = await runCliInProcess([root + APP, '--root', root, '-j', '1', '--format', 'json', '--fail-on', 'never'], { fs: sb.fs });
    const json = JSON.parse(r.stdout) as { links: { path: string; findings: unknown[] }[] };
    const expected = json.links.map((l) => l.findings);
    // Positive control: the tree has findings to say.
    expect(expected.flat().length).toBeGreaterThan(3);
    const words = (links: readonly { findings: readonly unknown[] }[]): unknown[] => links.map((l) => l.findings.map((f) => JSON.parse(JSON.stringify(f))));
    expect(words((await audit(options)).links)).toEqual(expected);
    expect(words(auditSync(options).links)).toEqual(expected);
    expect(words((await fix({ ...options, dryRun: true })).links)).toEqual(expected);
    const streamed: { findings: readonly unknown[] }[] = [];
    for await (const ev of auditStream(options)) if (ev.type === 'link') streamed.push(ev.link);
    expect(words(streamed)).toEqual(expected);
  });
});
