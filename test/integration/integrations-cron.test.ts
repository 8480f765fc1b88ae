/**
 * contrib/cron/linkcheck, the /etc/cron.d file: it parses as cron reads it (environment lines,
 * five time fields, a user, a command without `%`), and its command, run the way cron runs it
 * (`/bin/sh -c` with the file's environment and nothing else), repairs the Capistrano story and
 * then prints nothing, so cron mails exactly once: when something changed.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { links } from '../support/disk.js';
import { cliKnows, journalChanges, storyCopy, type StoryCopy } from '../support/integration.js';
import { REPO } from '../support/repo.js';

const CRON_FILE = `${REPO}/contrib/cron/linkcheck`;

interface CronFile {
  env: Record<string, string>;
  jobs: Array<{ fields: string[]; user: string; command: string }>;
}

const RANGES: Array<[string, number, number, string[]]> = [
  ['minute', 0, 59, []],
  ['hour', 0, 23, []],
  ['day of month', 1, 31, []],
  ['month', 1, 12, ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']],
  ['day of week', 0, 7, ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']],
];

/** Throws unless `field` is valid cron syntax for its position: `*`, n, a-b, lists, /step. */
function checkField(field: string, [what, lo, hi, names]: (typeof RANGES)[number]): void {
  const value = (v: string): number => {
    const named = names.indexOf(v.toLowerCase());
    const n = named >= 0 ? named + (lo === 1 ? 1 : 0) : /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= lo && n <= hi)) throw new Error(`${what} "${field}": ${v} is not in ${lo}-${hi}`);
    return n;
  };
  for (const part of field.split(',')) {
    const m = /^(\*|[^-/]+(?:-[^-/]+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`${what} "${field}" is not cron syntax`);
    if (m[2] !== undefined && !(Number(m[2]) >= 1 && Number(m[2]) <= hi)) throw new Error(`${what} "${field}": bad step ${m[2]}`);
    if (m[1] === '*') continue;
    const [a, b] = m[1]!.split('-');
    if (b !== undefined && value(a!) > value(b)) throw new Error(`${what} "${field}": empty range`);
    value(a!);
  }
}

/** Reads a /etc/cron.d file the way cron does: comments, NAME=value lines, job lines. */
function parseCronD(text: string): CronFile {
  const out: CronFile = { env: {}, jobs: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const env = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (env) {
      out.env[env[1]!] = env[2]!.replace(/^(['"])(.*)\1$/, '$2');
      continue;
    }
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`not a cron.d job line (five time fields, a user, a command): ${line}`);
    const fields = m.slice(1, 6);
    fields.forEach((f, i) => checkField(f, RANGES[i]!));
    const command = m[7]!;
    // cron turns an unescaped % into a newline and feeds the rest to stdin.
    if (/(^|[^\\])%/.test(command)) throw new Error(`the command holds a bare %: ${command}`);
    out.jobs.push({ fields, user: m[6]!, command });
  }
  return out;
}

describe('the parser refuses what cron would refuse (positive controls)', () => {
  it.each([
    ['four time fields', '*/15 * * * root'],
    ['minute 60', '60 * * * * root linkcheck /x'],
    ['a bare %', '0 3 * * * root linkcheck /x --output /tmp/x-$(date +%F)'],
    ['a bad step', '*/0 * * * * root linkcheck /x'],
    ['a month name out of place', '0 3 * * jan root linkcheck /x'],
  ])('%s', (_what, line) => {
    expect(() => parseCronD(line)).toThrow();
  });

  it('and reads a good line', () => {
    expect(parseCronD('MAILTO=ops\n0,30 2-4/1 1 jan-mar mon-fri deploy echo 50\\%\n')).toEqual({
      env: { MAILTO: 'ops' },
      jobs: [{ fields: ['0,30', '2-4/1', '1', 'jan-mar', 'mon-fri'], user: 'deploy', command: 'echo 50\\%' }],
    });
  });
});

describe('contrib/cron/linkcheck', () => {
  const cron = parseCronD(fs.readFileSync(CRON_FILE, 'utf8'));
  const withWait = cliKnows('--wait');
  let story: StoryCopy | null = null;
  afterEach(() => story?.cleanup());

  it('is one job for root, with the lock, the journal and a PATH that finds linkcheck', () => {
    expect(cron.jobs).toHaveLength(1);
    const job = cron.jobs[0]!;
    expect(job.user).toBe('root');
    expect(spawnSync('id', ['-u', job.user]).status, `user ${job.user} exists`).toBe(0);
    expect(job.command).toMatch(/^linkcheck \S+ --root \S+ .*--fix/);
    expect(job.command).toMatch(/ --quiet( |$)/);
    expect(job.command).toMatch(/ --wait \d+( |$)/);
    expect(job.command).toMatch(/ --journal \/var\/lib\/linkcheck\//);
    expect(cron.env.PATH?.split(':')).toContain('/usr/local/bin');
    expect(cron.env.SHELL).toBe('/bin/sh');
  });

  /** The job's command with this copy's paths, without --wait on a build that lacks it. */
  const command = (s: StoryCopy): string => {
    const c = s.local(cron.jobs[0]!.command);
    return withWait ? c : c.replace(/ --wait \d+/, '');
  };

  /** The environment cron gives the job: the file's, cron's HOME and LOGNAME, nothing else. */
  const cronEnv = (s: StoryCopy) => ({ ...cron.env, PATH: s.local(cron.env.PATH!), HOME: '/root', LOGNAME: 'root' });

  /** Runs the command as cron does: /bin/sh -c in cron's environment. */
  const runAsCron = (s: StoryCopy, cmd: string) => {
    const r = spawnSync('/bin/sh', ['-c', cmd], { env: cronEnv(s), encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it(`runs the real CLI through /bin/sh -c: mails the repair once, then stays silent${withWait ? '' : ' (this build has no --wait: run without it)'}`, () => {
    ensureBuilt();
    story = storyCopy('cron');
    const s = story;
    const before = links(s.tree);
    // Positive control: the story has absolute links for the job to repair.
    expect([...before.values()].filter((t) => t.startsWith('/')).length).toBeGreaterThanOrEqual(4);

    const first = runAsCron(s, command(s));
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    expect(first.stderr).toBe('');
    expect(first.stdout, 'cron mails what was fixed').toMatch(/^fixed (.*\/)?current: /m);
    for (const [p, t] of links(s.tree)) expect(t.startsWith('/'), `${p} -> ${t}`).toBe(false);
    const journal = journalChanges(`${s.state}/journal`);
    expect(journal).toHaveLength([...before.values()].filter((t) => t.startsWith('/')).length);

    const second = runAsCron(s, command(s));
    expect(second, 'a clean tree: cron mails nothing').toEqual({ code: 0, stdout: '', stderr: '' });
    expect(journalChanges(`${s.state}/journal`)).toEqual(journal);
  });

  it.skipIf(!withWait)(`two runs started together (a deploy hook and cron): each link fixed once${withWait ? '' : ' (skipped: this build has no --wait; the lock comes with it)'}`, async () => {
    ensureBuilt();
    story = storyCopy('cron-twice');
    const s = story;
    const absolute = [...links(s.tree).values()].filter((t) => t.startsWith('/')).length;
    const env = cronEnv(s);
    const both = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<number | null>((resolve) => {
            const child = spawn('/bin/sh', ['-c', command(s)], { env, stdio: 'ignore' });
            child.on('close', resolve);
          }),
      ),
    );
    expect(both).toEqual([0, 0]);
    const entries = journalChanges(`${s.state}/journal`).map((e) => e.path);
    expect(new Set(entries).size).toBe(entries.length);
    expect(entries).toHaveLength(absolute);
  });
});
