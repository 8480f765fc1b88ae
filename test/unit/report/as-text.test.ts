/**
 * The library's results carry paths as ordinary strings (report/as-text.ts): a UTF-8 name reads
 * as itself, a name that is not UTF-8 keeps its bytes as \udcXX (as the JSON report writes it),
 * toBytes gives those bytes back for node:fs, and a path from a result goes back in as it is.
 */
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { audit, auditSync, auditStream, fix, fromBytes, toBytes } from '../../../src/index.js';
import { removeDir, tempDir } from '../../support/disk.js';

const base = tempDir('as-text');
afterAll(() => removeDir(base));
const R = `${base}/jail`;
const raw = (s: string): Buffer => Buffer.from(s, 'latin1');
fs.mkdirSync(`${R}/app`, { recursive: true });
fs.mkdirSync(`${R}/café`);
// Absolute into the root: fixable, and a name with an accent on both ends.
fs.symlinkSync(`${R}/café`, `${R}/app/café`);
// A name that is not UTF-8 (0xff), pointing at a target that is not either.
fs.symlinkSync(raw('../caf\xe9'), raw(`${R}/app/n\xff`));

describe('paths in results are ordinary strings', () => {
  it('audit, auditSync and auditStream give café as café and 0xff as \\udcff', async () => {
    const a = await audit({ paths: [`${R}/app`], root: R });
    const s = auditSync({ paths: [`${R}/app`], root: R });
    const events = [];
    for await (const ev of auditStream({ paths: [`${R}/app`], root: R })) if (ev.type === 'link') events.push(ev.link);
    for (const links of [a.links, s.links, events]) {
      expect(links.map((l) => l.path).sort()).toEqual([`${R}/app/café`, `${R}/app/n\udcff`]);
      const odd = links.find((l) => l.path.endsWith('\udcff'))!;
      expect(odd.target).toBe('../caf\udce9');
      const cafe = links.find((l) => l.path.endsWith('café'))!;
      expect(cafe.target).toBe(`${R}/café`);
      expect(cafe.inside).toBe('/app/café');
      expect(cafe.host.resolved).toBe(`${R}/café`);
      expect(cafe.fix?.target).toBe('../café');
      expect(cafe.fix?.intended).toBe('/café');
    }
    expect([a.root, a.scanned]).toEqual([R, [`${R}/app`]]);
  });

  it('toBytes gives the exact bytes for node:fs, fromBytes the other way, and a result path goes back in', async () => {
    const a = await audit({ paths: [`${R}/app`], root: R });
    const odd = a.links.find((l) => l.path.endsWith('\udcff'))!;
    expect(toBytes(odd.path)).toEqual(raw(`${R}/app/n\xff`));
    expect(fs.readlinkSync(toBytes(odd.path), { encoding: 'buffer' })).toEqual(raw('../caf\xe9'));
    expect(fromBytes(raw(`${R}/app/n\xff`))).toBe(odd.path);
    expect(toBytes('café')).toEqual(Buffer.from('café', 'utf8'));
    const again = await audit({ paths: [odd.path], root: R });
    expect(again.links.map((l) => l.path)).toEqual([odd.path]);
  });

  it('fix() reports its changes as text too', async () => {
    const done = await fix({ paths: [`${R}/app`], root: R, dryRun: true });
    expect(done.changes.map((c) => [c.path, c.old, c.new])).toEqual([[`${R}/app/café`, `${R}/café`, '../café']]);
  });
});
