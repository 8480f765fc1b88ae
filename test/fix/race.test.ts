/**
 * The race: root runs `linkcheck --fix` over a tree owned by `nobody` while `nobody` keeps
 * renaming directories of that tree aside and putting a symlink to a root-owned canary
 * directory in their place, then swapping them back, as fast as it can. linkcheck must never
 * write into the canary, nor anywhere outside the tree; every link ends with its old text or a
 * valid new one; a final clean run fixes everything and leaves no temporary link.
 *
 * The canary is root-owned and mode 0755, and holds decoys: the same names and link texts as
 * the directories it stands in for. 0755 rather than 0777 because then nothing but root can add
 * an entry there, so any change is linkcheck's doing and is exactly the privilege an attacker
 * wants (root writing where they cannot; root ignores the mode anyway). The decoys make a
 * fooled fixer actually write (it finds the planned name with the planned old text) instead of
 * skipping an absent name, and the snapshot includes the canary's own mtime and ctime, which
 * move on any entry created, renamed or removed, even a temporary link removed again.
 *
 * A positive control shows the attack lands: the same library run through a path-based gate
 * (an fs port that is not `real`, so the fixer checks components by lstat and then writes by
 * full path) is fooled into writing into a second canary within seconds.
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { spawnNodeAsync, type SpawnResult } from '../support/cli.js';
import { asUser, chownTree, diffSnapshots, isRoot, links, removeDir, snapshot, tempDir, tempLinks } from '../support/disk.js';
import { BIN, libModule } from '../support/repo.js';

const NOBODY = 65534;
const TOP_DIRS = 20;
const LINKS_PER_DIR = 8;
/** Directory shape under each top directory; the canary has the same shape. */
const SUBDIRS = ['', 's0', 's0/u', 's1'];
/** Time for the main phase (the control phase takes at most CONTROL_MS more). */
const MAIN_MS = 30_000;
/**
 * The control stops at the first round that fools it (1 to 11 rounds seen); with another test
 * file running beside this one (two at a time), a round takes ~1.6 s and 12 rounds in 20 s were
 * once not enough: so up to 60 s, which only a control that is not fooled spends.
 */
const CONTROL_MS = 60_000;

/**
 * The attacker, run as nobody. Messages: {cmd:'go', canary, mode} | {cmd:'pause'} | {cmd:'exit'}.
 * mode 'random': swap random directories, holding the swap for random times (0 to 2 ms).
 * mode 'chase': follow the fixer (it works in path order; its progress shows in the links it has
 * rewritten) and flip the directory it is about to enter back and forth with no pause, aiming at
 * the microseconds between the fixer's lstat of a directory and its chdir into it.
 */
const ATTACKER = `
import fs from 'node:fs';
const dirs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')); // [{ path, rel, probe, old }] in the walk's order
let canary = null, mode = 'random', running = false, stop = false, swaps = 0, errors = [];
const spin = (ns) => { const end = process.hrtime.bigint() + BigInt(ns); while (process.hrtime.bigint() < end); };
function holdNs() {
  const r = Math.random();
  return r < 0.4 ? 0 : r < 0.85 ? Math.floor(Math.random() * 100_000) : Math.floor(Math.random() * 2_000_000);
}
function restore(d, aside) {
  try { if (fs.lstatSync(d, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(d); } catch (e) { errors.push('restore unlink ' + e.code); }
  try { if (fs.existsSync(aside)) fs.renameSync(aside, d); } catch (e) { errors.push('restore rename ' + e.code); }
}
function oneSwap(d, hold) {
  const aside = d.path + '.aside';
  try {
    fs.renameSync(d.path, aside);
    fs.symlinkSync(d.rel ? canary + '/' + d.rel : canary, d.path);
    if (hold) spin(hold);
    fs.unlinkSync(d.path);
    fs.renameSync(aside, d.path);
    swaps++;
  } catch (e) {
    errors.push(e.code + ' ' + e.syscall);
    restore(d.path, aside);
  }
}
/**
 * The directory after the last one where the fixer has rewritten a link. Progress only goes
 * forward (a round starts from index 0), so only the next few directories are probed; a
 * directory the fixer skipped never changes, so the probe looks a few beyond it.
 */
let last = -1;
function chaseTarget() {
  for (let i = Math.min(last + 6, dirs.length - 1); i > last; i--) {
    let t;
    try { t = fs.readlinkSync(dirs[i].probe); } catch { continue; }
    if (t !== dirs[i].old) { last = i; break; }
  }
  return dirs[Math.min(last + 1, dirs.length - 1)];
}
process.on('message', (m) => {
  if (m.cmd === 'go') { canary = m.canary; mode = m.mode; last = -1; running = true; }
  else if (m.cmd === 'pause') running = false;
  else if (m.cmd === 'exit') { running = false; stop = true; }
});
process.send({ type: 'ready', uid: process.getuid() });
while (!stop) {
  if (!running) {
    process.send({ type: 'paused', swaps, errors: errors.slice(0, 20), errorCount: errors.length });
    while (!running && !stop) await new Promise((r) => setTimeout(r, 1));
    continue;
  }
  const until = Date.now() + 5;
  if (mode === 'chase') {
    while (running && Date.now() < until) {
      const d = chaseTarget();
      for (let k = 0; k < 16; k++) oneSwap(d, 0);
    }
  } else while (running && Date.now() < until) oneSwap(dirs[Math.floor(Math.random() * dirs.length)], holdNs());
  await new Promise((r) => setImmediate(r));
}
process.send({ type: 'bye', swaps, errors: errors.slice(0, 20), errorCount: errors.length });
process.disconnect();
`;

/** The library in a child (root): plan, wait a while, apply. argv: lib tree root delayMs naive */
const LIBRARY_RUN = `
const [lib, tree, root, delay, naive] = process.argv.slice(2);
const dist = new URL('.', 'file://' + lib);
const { Auditor } = await import(new URL('audit/auditor.js', dist).href);
const { fixPlanner } = await import(new URL('fix/planner.js', dist).href);
const { applyFixes } = await import(new URL('fix/apply.js', dist).href);
const { nodeFsPort } = await import(new URL('core/fs-port.js', dist).href);
// naive: a port that is not 'real', so the fixer uses its path gate (the positive control).
const fs = naive === '1' ? { ...nodeFsPort(), real: false } : undefined;
const a = new Auditor({ paths: [tree], root, fs }, fixPlanner());
for (const _ of a.events());
await new Promise((r) => setTimeout(r, Number(delay)));
const changes = await applyFixes(a.settings, a.fixes, { leftovers: a.leftovers });
const counts = {};
const reasons = {};
for (const c of changes) {
  counts[c.status] = (counts[c.status] ?? 0) + 1;
  if (c.reason) reasons[c.reason] = (reasons[c.reason] ?? 0) + 1;
}
process.stdout.write(JSON.stringify({ planned: a.fixes.length, counts, reasons }));
`;

interface Msg {
  type: 'ready' | 'paused' | 'bye';
  uid?: number;
  swaps?: number;
  errors?: string[];
  errorCount?: number;
}

const runNode = spawnNodeAsync;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rand = (n: number): number => Math.floor(Math.random() * n);

const reason = !isRoot() ? 'needs root (to run the fixer as root and the attacker as nobody)' : null;

describe.skipIf(reason !== null)(`the fixer under a directory-swapping attacker${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let work = '';
  let T = '';
  let R = '';
  let tree = '';
  let attacker: ChildProcess | null = null;
  let inbox: Msg[] = [];
  let waiters: { type: Msg['type']; resolve: (m: Msg) => void }[] = [];
  /** link path -> [old text, new text] */
  const expected = new Map<string, [string, string]>();
  const dirs: { path: string; rel: string; probe: string; old: string }[] = [];

  const next = (type: Msg['type']): Promise<Msg> => {
    const i = inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = {
        type,
        resolve: (m: Msg): void => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        waiters = waiters.filter((x) => x !== w);
        reject(new Error(`the attacker did not answer ${type} in 10 s`));
      }, 10_000);
      waiters.push(w);
    });
  };

  const send = (m: object): void => {
    attacker!.send(m);
  };
  const pause = async (): Promise<Msg> => {
    inbox = inbox.filter((m) => m.type !== 'paused');
    send({ cmd: 'pause' });
    return next('paused');
  };

  /** Makes a directory shaped like a top directory of the tree: links at every level. */
  const populate = (dir: string): void => {
    for (const sub of SUBDIRS) {
      const d = sub ? `${dir}/${sub}` : dir;
      fs.mkdirSync(d, { recursive: true });
      for (let i = 0; i < LINKS_PER_DIR; i++) fs.symlinkSync(`${R}/target/t${i}`, `${d}/l${i}`);
    }
  };

  const makeCanary = (path: string): void => {
    fs.mkdirSync(path);
    populate(path);
    fs.writeFileSync(`${path}/precious`, 'root only\n');
    chownTree(path, 0, 0);
    fs.chmodSync(path, 0o755);
  };

  /** Puts every link back to its old text (owned by nobody): each round has the full job. */
  const resetLinks = (): void => {
    for (const [p, [old]] of expected) {
      if (fs.readlinkSync(p) === old) continue;
      fs.unlinkSync(p);
      fs.symlinkSync(old, p);
      fs.lchownSync(p, NOBODY, NOBODY);
    }
  };

  /** Every directory is back in place, every link has its old or its new text, nothing else appeared. */
  const checkTree = (when: string): { fixed: number } => {
    for (const d of dirs) {
      expect(fs.lstatSync(d.path).isDirectory(), `${when}: ${d.path} is a directory`).toBe(true);
      expect(fs.existsSync(`${d.path}.aside`), `${when}: ${d.path}.aside left over`).toBe(false);
    }
    const now = links(tree);
    let fixed = 0;
    for (const [p, [old, neu]] of expected) {
      const t = now.get(p);
      expect(t === old || t === neu, `${when}: ${p} -> ${t} (old ${old}, new ${neu})`).toBe(true);
      if (t === neu) fixed++;
      now.delete(p);
    }
    // No temporary link (the fixer ran to its end) and nothing else new.
    expect([...now.keys()], `${when}: unexpected links in the tree`).toEqual([]);
    return { fixed };
  };

  beforeAll(() => {
    ensureBuilt();
    work = tempDir('race-work');
    fs.chmodSync(work, 0o755);
    fs.writeFileSync(`${work}/attacker.mjs`, ATTACKER, { mode: 0o644 });
    fs.writeFileSync(`${work}/library-run.mjs`, LIBRARY_RUN, { mode: 0o644 });

    T = tempDir('race');
    fs.chmodSync(T, 0o755);
    R = `${T}/jail`;
    tree = `${R}/tree`;
    fs.mkdirSync(`${R}/target`, { recursive: true });
    for (let i = 0; i < LINKS_PER_DIR; i++) fs.writeFileSync(`${R}/target/t${i}`, `target ${i}\n`);
    fs.mkdirSync(`${T}/outside/etc`, { recursive: true });
    fs.writeFileSync(`${T}/outside/etc/passwd`, 'root:x:0:0::/root:/bin/sh\n');
    fs.mkdirSync(tree);
    for (let k = 0; k < TOP_DIRS; k++) populate(`${tree}/d${k}`);
    chownTree(tree, NOBODY, NOBODY);
    makeCanary(`${T}/canary`);
    makeCanary(`${T}/canary-control`);

    for (let k = 0; k < TOP_DIRS; k++)
      for (const sub of SUBDIRS) {
        const d = sub ? `${tree}/d${k}/${sub}` : `${tree}/d${k}`;
        dirs.push({ path: d, rel: sub, probe: `${d}/l0`, old: `${R}/target/t0` });
        const depth = d.slice(R.length).split('/').length - 1; // the directory's components inside the root
        for (let i = 0; i < LINKS_PER_DIR; i++) expected.set(`${d}/l${i}`, [`${R}/target/t${i}`, `${'../'.repeat(depth)}target/t${i}`]);
      }
    // The walk's order (a directory sorts as its name plus '/'): the order the fixer goes in.
    dirs.sort((a, b) => Buffer.compare(Buffer.from(`${a.path}/`), Buffer.from(`${b.path}/`)));
    fs.writeFileSync(`${work}/dirs.json`, JSON.stringify(dirs), { mode: 0o644 });
  });

  afterAll(async () => {
    if (attacker && attacker.exitCode === null) {
      attacker.kill('SIGKILL');
      await new Promise((r) => attacker!.once('exit', r));
    }
    removeDir(T);
    removeDir(work);
  }, 30_000);

  it('never writes outside the tree, whatever the attacker does', async () => {
    const outsideTree = (p: string): boolean => p === tree;
    attacker = fork(`${work}/attacker.mjs`, [`${work}/dirs.json`], { ...asUser(NOBODY), stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: work });
    attacker.on('message', (m: Msg) => {
      const w = waiters.find((x) => x.type === m.type);
      if (w) {
        waiters = waiters.filter((x) => x !== w);
        w.resolve(m);
      } else inbox.push(m);
    });
    expect((await next('ready')).uid).toBe(NOBODY);
    await next('paused');

    // --- Positive control: a path-based gate is fooled within seconds. --------------------------
    const control = snapshot(`${T}/canary-control`);
    const controlEnd = Date.now() + CONTROL_MS;
    let controlRounds = 0;
    let fooled: string[] = [];
    const controlCrashes: string[] = [];
    while (Date.now() < controlEnd && fooled.length === 0) {
      resetLinks();
      send({ cmd: 'go', canary: `${T}/canary-control`, mode: controlRounds % 2 === 0 ? 'chase' : 'random' });
      const r = await runNode([`${work}/library-run.mjs`, libModule(), tree, R, String(rand(20)), '1']);
      await pause();
      controlRounds++;
      if (r.code !== 0) controlCrashes.push(r.stderr.split('\n').slice(0, 3).join(' / '));
      fooled = diffSnapshots(control, snapshot(`${T}/canary-control`));
    }
    expect(fooled.length, `the attack never fooled the path-based gate in ${controlRounds} rounds: the race test proves nothing`).toBeGreaterThan(0);
    // The control may have left its temp links in the tree (written while a directory was
    // swapped back); the main phase starts from a clean tree.
    for (const p of tempLinks(tree)) fs.unlinkSync(p);
    removeDir(`${T}/canary-control`);
    makeCanary(`${T}/canary-control`);

    // Everything outside the tree, the canaries included, from here on.
    const baseline = snapshot(T, outsideTree);

    // --- The real fixer, CLI and library, many rounds with varied timings. ----------------------
    const canary = snapshot(`${T}/canary`);
    const start = Date.now();
    /** Reasons, with names and resolutions blanked, counted. */
    const tally = (why: string, n: number): void => {
      const key = why.replace(/\([^)]*\)/g, '(…)').replace(/^[^ ]+ no longer exists$/, '… no longer exists');
      stats.reasons.set(key, (stats.reasons.get(key) ?? 0) + n);
    };
    const stats = { rounds: 0, cli: 0, lib: 0, changed: 0, skipped: 0, failed: 0, partial: 0, reasons: new Map<string, number>() };
    while (Date.now() - start < MAIN_MS || stats.rounds < 6) {
      resetLinks();
      checkTree(`before round ${stats.rounds}`);
      // Rounds cycle through CLI/library x random/chase/chase.
      const mode = stats.rounds % 3 === 0 ? 'random' : 'chase';
      send({ cmd: 'go', canary: `${T}/canary`, mode });
      await sleep(rand(30));
      let r: SpawnResult;
      if (stats.rounds % 2 === 0) {
        stats.cli++;
        r = await runNode([BIN, tree, '--root', R, '--fix', '--format', 'json', '--fail-on', 'never']);
      } else {
        stats.lib++;
        r = await runNode([`${work}/library-run.mjs`, libModule(), tree, R, String(rand(40)), '0']);
      }
      await pause();
      const when = `after round ${stats.rounds} (${stats.rounds % 2 === 0 ? 'CLI' : 'library'}, ${mode})`;
      // 1 only when a change was rolled back ('failed', checked below); 2 or 70 would be a crash.
      expect([0, 1], `${when}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`).toContain(r.code);
      expect(diffSnapshots(canary, snapshot(`${T}/canary`)), `${when}: the canary changed`).toEqual([]);
      expect(diffSnapshots(baseline, snapshot(T, outsideTree)), `${when}: something outside the tree changed`).toEqual([]);
      const { fixed } = checkTree(when);
      if (fixed > 0 && fixed < expected.size) stats.partial++;
      if (stats.rounds % 2 === 0) {
        const report = JSON.parse(r.stdout) as { changes: { status: string; reason: string | null }[] };
        if (r.code === 1) expect(report.changes.some((c) => c.status === 'failed'), `${when}: exit 1 with no failed change`).toBe(true);
        for (const c of report.changes) {
          if (c.status === 'changed' || c.status === 'skipped' || c.status === 'failed') stats[c.status]++;
          if (c.reason) tally(c.reason, 1);
        }
      } else {
        const out = JSON.parse(r.stdout) as { counts: Record<string, number>; reasons: Record<string, number> };
        stats.changed += out.counts.changed ?? 0;
        stats.skipped += out.counts.skipped ?? 0;
        stats.failed += out.counts.failed ?? 0;
        for (const [x, n] of Object.entries(out.reasons)) tally(x, n);
      }
      stats.rounds++;
    }
    send({ cmd: 'exit' });
    const bye = await next('bye');
    await new Promise((r) => (attacker!.exitCode !== null ? r(null) : attacker!.once('exit', r)));
    console.log(
      `race: control fooled after ${controlRounds} round(s) (${fooled.length} canary changes, ${controlCrashes.length} crashes${controlCrashes[0] ? ': ' + controlCrashes[0] : ''}); main: ${stats.rounds} rounds (${stats.cli} CLI, ${stats.lib} library), ` +
        `${bye.swaps} swaps by the attacker, changed ${stats.changed}, skipped ${stats.skipped}, failed ${stats.failed}, ` +
        `${stats.partial} rounds partly fixed; reasons: ${[...stats.reasons].map(([k, n]) => `${n}× ${k}`).join(' | ')}`,
    );
    expect(bye.errorCount, `the attacker's own errors: ${bye.errors?.join(', ')}`).toBe(0);
    expect(bye.swaps!).toBeGreaterThan(5_000);
    // The attack got in the fixer's way (else it proved little), and the fixer still fixed things.
    expect(stats.skipped + stats.failed).toBeGreaterThan(0);
    expect(stats.changed).toBeGreaterThan(0);

    // --- A final clean run: everything fixed, nothing temporary left, nothing outside touched. --
    const final = await runNode([BIN, tree, '--root', R, '--fix', '--quiet']);
    expect(final.code, final.stderr).toBe(0);
    expect(tempLinks(T)).toEqual([]);
    const { fixed } = checkTree('after the final run');
    expect(fixed).toBe(expected.size);
    for (const [p] of expected) {
      expect(fs.realpathSync(p), p).toBe(`${R}/target/t${p.slice(p.lastIndexOf('/l') + 2)}`);
      expect(fs.lstatSync(p).uid, `${p} owner`).toBe(NOBODY);
    }
    const again = await runNode([BIN, tree, '--root', R, '--fix', '--quiet']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/fixed /);
    expect(diffSnapshots(canary, snapshot(`${T}/canary`))).toEqual([]);
    expect(diffSnapshots(baseline, snapshot(T, outsideTree))).toEqual([]);
  }, 240_000);
});
