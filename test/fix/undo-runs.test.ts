/**
 * Runs in the journal, as a repair after each deploy writes them: `undo --list` shows each run
 * (id, start, changes, state, host, user, version, roots); `undo --last` takes back only the last run
 * (a --fix over many jails is one run: all of them),
 * `--run ID` only that one; `undo --dry-run` counts exactly what the real undo then does, also on
 * a journal with the same change recorded twice (what two unlocked runs used to write) and on
 * trees changed by hand since; journals written before runs existed undo as one run; a torn
 * tail is named and never taken for a change.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { jail, removeDir } from '../support/disk.js';

let base = '';
let R = '';
let app = '';
let locks = '';
let n = 0;

const cli = (args: string[]): ReturnType<typeof spawnCli> => spawnCli(args, { env: { LINKCHECK_LOCK_DIR: locks } });

/** A fresh app dir with `names` as absolute links into the root, as a deploy leaves them. */
function deploy(names: string[]): void {
  for (const name of names) {
    if (!fs.existsSync(`${R}/data/${name}`)) fs.writeFileSync(`${R}/data/${name}`, name);
    fs.rmSync(`${app}/${name}`, { force: true });
    fs.symlinkSync(`${R}/data/${name}`, `${app}/${name}`);
  }
}

const text = (name: string): string => fs.readlinkSync(`${app}/${name}`);
const fix = (j: string): void => {
  const r = cli([app, '--root', R, '--fix', '--quiet', '--journal', j]);
  expect(r.code, r.stderr).toBe(0);
};
/** The summary line of an undo: `restored N, skipped M of K journal entries`, with the verb taken off. */
const counts = (out: string): string => /(?:would restore|restored) (\d+, skipped \d+(?:, failed \d+)? of \d+) journal entries/.exec(out)?.[1] ?? `no summary in: ${out}`;

beforeAll(() => {
  ensureBuilt();
  ({ base, R, app, locks } = jail('undo-runs'));
  fs.writeFileSync(`${R}/data/elsewhere`, 'hand-made target');
});
afterAll(() => removeDir(base));

const fresh = (): string => {
  for (const e of fs.readdirSync(app)) fs.rmSync(`${app}/${e}`);
  return `${base}/journal${n++}`;
};

/** A fresh app with `names` deployed and fixed once: the journal of that run. */
function fixedJournal(names: string[]): string {
  const j = fresh();
  deploy(names);
  fix(j);
  return j;
}

describe('runs', () => {
  it('--list shows each run; --last undoes only the last; --run only the one named; dry-run counts match', () => {
    const j = fresh();
    const A = Array.from({ length: 10 }, (_, i) => `a${i}`);
    const B = Array.from({ length: 5 }, (_, i) => `b${i}`);
    const C = ['c0', 'c1', 'c2'];
    deploy(A);
    fix(j);
    deploy([...B, 'a0']); // the next deploy writes a0 absolute again
    fix(j);
    deploy(C);
    fix(j);

    const list = cli(['undo', j, '--list']);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^run\s+started\s+changes\s+state\s+host\s+user\s+version\s+root$/);
    const ids = [...new Set(fs.readFileSync(j, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { run: string }).run))];
    expect(ids).toHaveLength(3);
    expect(rows.slice(1).map((r) => r.split(/\s+/))).toEqual(
      ids.map((id, i) => [id, expect.stringMatching(/^\d{4}-\d\d-\d\dT/), String([10, 6, 3][i]), 'complete', os.hostname(), os.userInfo().username, expect.stringMatching(/^\d+\.\d+/), R]),
    );

    const dry = cli(['undo', j, '--last', '--dry-run']);
    const real = cli(['undo', j, '--last']);
    expect(real.code, real.stderr).toBe(0);
    expect(counts(dry.stdout)).toBe('3, skipped 0 of 3');
    expect(counts(real.stdout)).toBe(counts(dry.stdout));
    for (const c of C) expect(text(c)).toBe(`${R}/data/${c}`);
    for (const x of [...A, ...B]) expect(text(x), x).toBe(`../data/${x}`);

    // The first run only (a0 holds the text it gave, so a0 goes back too).
    const dry1 = cli(['undo', j, '--run', ids[0]!, '--dry-run']);
    const real1 = cli(['undo', j, '--run', ids[0]!]);
    expect(counts(dry1.stdout)).toBe('10, skipped 0 of 10');
    expect(counts(real1.stdout)).toBe(counts(dry1.stdout));
    for (const a of A) expect(text(a)).toBe(`${R}/data/${a}`);
    for (const b of B) expect(text(b)).toBe(`../data/${b}`);

    // Everything: the second run's a0 already holds its old text, the third run's are undone.
    const dryAll = cli(['undo', j, '--dry-run']);
    const realAll = cli(['undo', j]);
    expect(counts(dryAll.stdout)).toBe('5, skipped 14 of 19');
    expect(counts(realAll.stdout)).toBe(counts(dryAll.stdout));
    for (const x of [...A, ...B, ...C]) expect(text(x)).toBe(`${R}/data/${x}`);
    // Every run was taken back whole, and the list says so.
    const after = cli(['undo', j, '--list']).stdout.trimEnd().split('\n').slice(1);
    expect(after.map((r) => r.split(/\s+/)[3])).toEqual(['undone', 'undone', 'undone']);
  });

  it('dry-run counts match on a journal holding the same change twice (two unlocked runs)', () => {
    const j = fixedJournal(['x', 'y']);
    const lines = fs.readFileSync(j, 'utf8').trim().split('\n').filter((l) => l.startsWith('{"path":'));
    // What two runs racing without a lock journaled: both recorded the change to x.
    fs.appendFileSync(j, lines[0]!.replace(/"run":"[^"]+"/, '"run":"20991231T000000Z-ffffff"') + '\n');
    const dry = cli(['undo', j, '--dry-run']);
    expect(dry.stdout).toMatch(/would restore .*\/x: /);
    expect(dry.stdout).toMatch(/skipped .*\/x: already holds the old text/);
    const real = cli(['undo', j]);
    expect(counts(dry.stdout)).toBe('2, skipped 1 of 3');
    expect(counts(real.stdout)).toBe(counts(dry.stdout));
  });

  it('dry-run counts match the real undo on random histories of deploys, fixes and hand edits', () => {
    let seed = 7;
    const rand = (k: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % k;
    for (let round = 0; round < 4; round++) {
      const j = fresh();
      const names = Array.from({ length: 12 }, (_, i) => `r${i}`);
      const history: string[] = [];
      for (let step = 0; step < 4; step++) {
        const some = names.filter(() => rand(2) === 0);
        deploy(some);
        fix(j);
        // Someone edits a link by hand, or removes one.
        const victim = names[rand(names.length)]!;
        if (rand(2) === 0) {
          fs.rmSync(`${app}/${victim}`, { force: true });
          fs.symlinkSync('../data/elsewhere', `${app}/${victim}`);
        } else fs.rmSync(`${app}/${victim}`, { force: true });
        history.push(`${some.length} deployed, ${victim} edited`);
      }
      // Duplicate a random line under another run id now and then.
      const lines = fs.readFileSync(j, 'utf8').trim().split('\n');
      if (lines.length > 0 && rand(2) === 0) fs.appendFileSync(j, lines[rand(lines.length)]!.replace(/"run":"[^"]+"/, '"run":"x"') + '\n');
      for (const how of [['--last'], []]) {
        const dry = cli(['undo', j, ...how, '--dry-run']);
        const real = cli(['undo', j, ...how]);
        expect(real.code, real.stderr).toBe(0);
        expect(counts(real.stdout), `round ${round} ${how.join(' ')}: ${history.join('; ')}`).toBe(counts(dry.stdout));
      }
    }
  });
});

describe('journals from before runs, torn tails, bad requests', () => {
  it('a journal without run ids undoes as one run, listed as legacy', () => {
    const j = fixedJournal(['p', 'q']);
    const old = fs
      .readFileSync(j, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('{"run":'))
      .join('\n')
      .replace(/,"run":"[^"]*","host":"[^"]*","user":"[^"]*","version":"[^"]*","root":"[^"]*"/g, '');
    expect(old).not.toMatch(/"run"/);
    fs.writeFileSync(j, old);
    const list = cli(['undo', j, '--list']);
    expect(list.stdout.trimEnd().split('\n').slice(1)).toEqual([expect.stringMatching(/^legacy\s+\S+\s+2\s+-\s+-\s+-\s+-\s+-$/)]);
    const real = cli(['undo', j, '--last']);
    expect(counts(real.stdout)).toBe('2, skipped 0 of 2');
    expect(text('p')).toBe(`${R}/data/p`);
  });

  it('a torn tail is named and never taken for a change', () => {
    const j = fixedJournal(['t']);
    const line = fs.readFileSync(j, 'utf8');
    // A run killed mid-write left part of a line for u (whose change it then never made).
    fs.appendFileSync(j, line.replace(/\/t"/g, '/u"').slice(0, 60));
    deploy(['u']);
    const dry = cli(['undo', j, '--dry-run']);
    expect(counts(dry.stdout)).toBe('1, skipped 0 of 1');
    expect(dry.stdout).toMatch(/ignored 1 torn journal line: a write cut short/);
    expect(cli(['undo', j, '--list']).stdout).toMatch(/ignored 1 torn journal line/);
    const real = cli(['undo', j]);
    expect(counts(real.stdout)).toBe('1, skipped 0 of 1');
    expect(text('u')).toBe(`${R}/data/u`);
  });

  it('an unknown run, or --list with another option, is exit 2 and one line', () => {
    const j = fixedJournal(['v']);
    for (const args of [['--run', 'nope'], ['--list', '--last'], ['--last', '--run', 'x'], ['--dry-run', '--wait', '1']]) {
      const r = cli(['undo', j, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect(cli(['undo', j, '--run', 'nope']).stderr).toMatch(/no run nope in the journal .*--list/);
    expect(text('v')).toBe('../data/v');
  });
});

describe('one command, one run', () => {
  it('--fix over three jails is one run in the journal; undo --last takes back all three', () => {
    const jails = `${base}/jails`;
    const names = ['a', 'b', 'c'];
    for (const name of names) {
      fs.mkdirSync(`${jails}/${name}/data`, { recursive: true });
      fs.mkdirSync(`${jails}/${name}/app`, { recursive: true });
      for (const k of [1, 2]) {
        fs.writeFileSync(`${jails}/${name}/data/f${k}`, 'x');
        fs.symlinkSync(`${jails}/${name}/data/f${k}`, `${jails}/${name}/app/l${k}`);
      }
    }
    const j = `${base}/three.journal`;
    const r = cli(['app', '--root', `${jails}/*`, '--fix', '--quiet', '--journal', j]);
    expect(r.code, r.stderr).toBe(0);
    for (const name of names) expect(fs.readlinkSync(`${jails}/${name}/app/l1`)).toBe('../data/f1');

    const rows = cli(['undo', j, '--list']).stdout.trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(1);
    const [, , changes, state, , , , roots] = rows[0]!.split(/\s+/);
    expect([changes, state, roots]).toEqual(['6', 'complete', names.map((n) => `${jails}/${n}`).join(',')]);

    const undo = cli(['undo', j, '--last']);
    expect(counts(undo.stdout), undo.stderr).toBe('6, skipped 0 of 6');
    for (const name of names) for (const k of [1, 2]) expect(fs.readlinkSync(`${jails}/${name}/app/l${k}`)).toBe(`${jails}/${name}/data/f${k}`);
    expect(cli(['undo', j, '--list']).stdout).toMatch(/\bundone\b/);
  });

  it('--dry-run previews the cron line as written, --journal included: nothing written, one note', () => {
    const j = `${base}/untouched.journal`;
    const before = fs.readdirSync(base);
    fresh();
    deploy(['d1']);
    const r = cli([app, '--root', R, '--fix', '--quiet', '--journal', j, '--dry-run']);
    // A dry run exits as the audit does: the link is broken until the real run fixes it.
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe(`linkcheck: --dry-run: the journal ${j} was not touched (the real run appends its changes there)\n`);
    expect(r.stdout).toMatch(/would fix .*d1/);
    expect(fs.existsSync(j)).toBe(false);
    expect(fs.readdirSync(base)).toEqual(before);
    expect(text('d1')).toBe(`${R}/data/d1`);
  });
});
