/**
 * The one way a test gets a build: the CLI and the library run from dist/, built when missing or
 * older than src/ (npm test builds first; a bare `npx vitest run` may not have).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { REPO, cliModule, libModule } from './repo.js';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ when it is missing or older than src/. Test files run in parallel processes, so
 * the build is serialised with a lock directory.
 */
export function ensureBuilt(): void {
  const fresh = (): boolean => {
    const mod = cliModule();
    return fs.existsSync(mod) && fs.existsSync(libModule()) && fs.statSync(mod).mtimeMs >= newestMtime(`${REPO}/src`);
  };
  if (fresh()) return;
  const lock = `${os.tmpdir()}/linkcheck-test-build.lock`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for 2 minutes: remove it if stale`);
      spawnSync('sleep', ['0.2']);
      if (fresh()) return;
    }
  }
  try {
    if (fresh()) return;
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the build (npm run build) failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    fs.rmdirSync(lock);
  }
}
