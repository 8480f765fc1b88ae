/**
 * The journal's writer and reader: every line names its run (id, host, user, version, root);
 * lines written before runs existed still read, as one run; a write that fails or comes back
 * short fails the append (and every append after it); a torn piece (no newline of its own) is
 * never taken for a change, even when a later whole line was glued onto it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal, JournalFailed, LEGACY_RUN, markUndone, newRun, readJournal, runsIn, type RunInfo } from '../../../src/fix/journal.js';
import { UsageError } from '../../../src/core/errors.js';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-journal-')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => `${dir}/j${n++}`;

const entry = (p: string) => ({ path: p, old: `/abs${p}`, new: `rel${p}`, uid: 1000, gid: 1001, mtime: 1234567890123456789n, atime: 1234567890987654321n, time: '2026-12-01T05:00:00.000Z' });
const run: RunInfo = { id: '20261201T050000Z-abcdef', host: 'web1', user: 'root', version: '9.9.9', root: '/srv/lighty' };

describe('journal lines carry their run', () => {
  it('writes and reads back every field, times exact to the nanosecond', () => {
    const f = file();
    const j = new Journal(f, run);
    j.append(entry('/a'));
    // A non-UTF-8 byte in a path survives the round trip.
    j.append(entry('/b\xff'));
    j.close();
    const { entries, torn } = readJournal(f);
    expect(torn).toBe(0);
    expect(entries).toEqual([
      { ...entry('/a'), run },
      { ...entry('/b\xff'), run },
    ]);
    const [begin, first] = fs.readFileSync(f, 'utf8').split('\n').map((l) => (l ? (JSON.parse(l) as Record<string, unknown>) : null));
    // The run's begin record comes before its first change.
    expect(begin).toEqual({ run: run.id, begin: entry('/a').time, host: 'web1', user: 'root', version: '9.9.9', roots: ['/srv/lighty'] });
    expect(Object.keys(first!)).toEqual(['path', 'old', 'new', 'uid', 'gid', 'mtime', 'atime', 'time', 'run', 'host', 'user', 'version', 'root']);
  });

  it('newRun names this host, user and version, and ids sort by start time', () => {
    const a = newRun('/r', new Date('2026-01-02T03:04:05.678Z'));
    const b = newRun('/r', new Date('2026-01-02T03:04:06.000Z'));
    expect(a.id).toMatch(/^20260102T030405Z-[0-9a-f]{6}$/);
    expect(a.id < b.id).toBe(true);
    expect(a.host).toBe(os.hostname());
    expect(a.user).toBe(os.userInfo().username);
    expect(a.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(newRun('/r').id).not.toBe(newRun('/r').id);
  });

  it('old lines without a run still read, and form one run; runs keep their order', () => {
    const f = file();
    const legacy = '{"path":"/old","old":"/x","new":"x","uid":0,"gid":0,"mtime":5,"atime":6,"time":"2025-01-01T00:00:00.000Z"}\n';
    fs.writeFileSync(f, legacy + legacy.replace('/old', '/old2'));
    const j = new Journal(f, run);
    j.append(entry('/new'));
    j.close();
    const { entries } = readJournal(f);
    expect(entries.map((e) => e.run?.id)).toEqual([undefined, undefined, run.id]);
    const runs = runsIn(entries);
    expect(runs.map((r) => [r.id, r.entries.length, r.root])).toEqual([
      [LEGACY_RUN, 2, ''],
      [run.id, 1, '/srv/lighty'],
    ]);
  });
});

describe('a run is one run in the journal, however many jails it fixes', () => {
  it('jails share the run id; the begin record lists every root; end closes it; undone marks it', () => {
    const f = file();
    const many: RunInfo = { ...run, roots: ['/srv/jails/a', '/srv/jails/b\xff'] };
    const j = new Journal(f, many);
    j.forRoot('/srv/jails/a').append(entry('/srv/jails/a/x'));
    j.forRoot('/srv/jails/b\xff').append(entry('/srv/jails/b\xff/y'));
    j.finish(new Date('2026-12-01T05:01:00.000Z'));
    j.close();
    const { entries, records } = readJournal(f);
    expect(entries.map((e) => [e.run?.id, e.run?.root])).toEqual([
      [run.id, '/srv/jails/a'],
      [run.id, '/srv/jails/b\xff'],
    ]);
    expect(records).toEqual([
      { run: run.id, kind: 'begin', time: entry('/a').time, roots: ['/srv/jails/a', '/srv/jails/b\xff'] },
      { run: run.id, kind: 'end', time: '2026-12-01T05:01:00.000Z' },
    ]);
    const [one] = runsIn(entries, records);
    expect([runsIn(entries, records).length, one!.state, one!.roots, one!.entries.length]).toEqual([1, 'complete', ['/srv/jails/a', '/srv/jails/b\xff'], 2]);
    expect(markUndone(f, [run.id], 'ops')).toBeNull();
    const again = readJournal(f);
    expect(runsIn(again.entries, again.records)[0]!.state).toBe('undone');
  });

  it('a run without its end record is interrupted; one that changed nothing writes nothing', () => {
    const f = file();
    const j = new Journal(f, run);
    j.append(entry('/a'));
    j.close(); // no finish: a signal, a kill
    const { entries, records } = readJournal(f);
    expect(runsIn(entries, records).map((r) => r.state)).toEqual(['interrupted']);
    const quiet = file();
    const k = new Journal(quiet, run);
    k.finish();
    k.close();
    expect(fs.readFileSync(quiet, 'utf8')).toBe('');
    // Lines from before runs had records: state unknown.
    const old = file();
    fs.writeFileSync(old, fs.readFileSync(f, 'utf8').split('\n')[1]! + '\n');
    const o = readJournal(old);
    expect(runsIn(o.entries, o.records).map((r) => r.state)).toEqual(['unknown']);
  });

  it('a torn record is ignored like a torn change, and a record glued after a torn piece reads', () => {
    const f = file();
    const j = new Journal(f, run);
    j.append(entry('/a'));
    j.close();
    const text = fs.readFileSync(f, 'utf8');
    fs.writeFileSync(f, text.slice(0, 20) + text);
    const got = readJournal(f);
    expect([got.torn, got.records.length, got.entries.length]).toEqual([1, 1, 1]);
  });
});

describe('a write that fails fails the append', () => {
  it('a short write is a failed write, and the journal stays failed', () => {
    const written: Buffer[] = [];
    const j = new Journal(file(), run, { write: (_fd, b) => (written.push(b), b.length - 1), fsync: () => {} });
    expect(() => j.append(entry('/a'))).toThrow(JournalFailed);
    expect(() => j.append(entry('/a'))).toThrow(/short write/);
    expect(written).toHaveLength(1); // the second append did not even try
    j.close();
  });

  it('a write error or an fsync error fails the append with its errno', () => {
    const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    const eio = Object.assign(new Error('io'), { code: 'EIO' });
    const a = new Journal(file(), run, { write: () => { throw enospc; }, fsync: () => {} });
    expect(() => a.append(entry('/a'))).toThrow(/cannot write the journal .* \(ENOSPC\)/);
    const b = new Journal(file(), run, { write: (_fd, d) => d.length, fsync: () => { throw eio; } });
    expect(() => b.append(entry('/a'))).toThrow(/\(EIO\)/);
    // Control: the same io that does not fail appends.
    const c = new Journal(file(), run, { write: (_fd, d) => d.length, fsync: () => {} });
    expect(() => c.append(entry('/a'))).not.toThrow();
    for (const j of [a, b, c]) j.close();
  });
});

describe('torn lines are never changes', () => {
  const whole = (p: string): string => {
    const f = file();
    const j = new Journal(f, run);
    j.append(entry(p));
    j.close();
    // The change line alone (the begin record before it is a line of its own).
    return fs.readFileSync(f, 'utf8').split('\n')[1]! + '\n';
  };

  it('a torn tail is ignored and counted', () => {
    const f = file();
    const a = whole('/a');
    fs.writeFileSync(f, a + whole('/b').slice(0, 40));
    expect(readJournal(f)).toEqual({ entries: [{ ...entry('/a'), run }], torn: 1, records: [], lastRun: run.id });
  });

  it('a whole line that lost only its newline is torn: its write came back short', () => {
    const f = file();
    fs.writeFileSync(f, whole('/a') + whole('/b').trimEnd());
    expect(readJournal(f).entries.map((e) => e.path)).toEqual(['/a']);
    // Control: with its newline it is a change.
    fs.appendFileSync(f, '\n');
    expect(readJournal(f)).toEqual({ entries: [{ ...entry('/a'), run }, { ...entry('/b'), run }], torn: 0, records: [], lastRun: run.id });
  });

  it('a later whole line glued onto a torn piece is read, the piece is not', () => {
    for (const cut of [3, 8, 40, whole('/b').length - 1]) {
      const f = file();
      fs.writeFileSync(f, whole('/a') + whole('/b').slice(0, cut) + whole('/c') + whole('/d'));
      const got = readJournal(f);
      expect(got.entries.map((e) => e.path), `cut at ${cut}`).toEqual(['/a', '/c', '/d']);
      expect(got.torn).toBe(1);
    }
  });

  it('a path that contains the line start cannot split a line', () => {
    const f = file();
    fs.writeFileSync(f, whole('/x{"path":"/y"}'));
    expect(readJournal(f)).toEqual({ entries: [{ ...entry('/x{"path":"/y"}'), run }], torn: 0, records: [], lastRun: run.id });
  });

  it('a damaged line in the middle is an error, not silently skipped', () => {
    const f = file();
    fs.writeFileSync(f, whole('/a') + 'hello\n' + whole('/b'));
    expect(() => readJournal(f)).toThrow(UsageError);
    expect(() => readJournal(f)).toThrow(/line 2 is not JSON/);
  });
});
