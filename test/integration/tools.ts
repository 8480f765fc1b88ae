import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Why `cmd args` cannot run here, or null when it can. */
export function missingTool(cmd: string, args: string[] = ['--version']): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `${cmd} is not installed (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  return null;
}

/**
 * Whether a suite that needs a tool should be skipped: outside CI it may skip itself (with the
 * reason in its name); under CI=true it runs, and `requireTool` in its beforeAll fails it.
 */
export function toolGate(missing: string | null): { skip: boolean; label: string } {
  const ci = process.env.CI === 'true';
  return { skip: missing !== null && !ci, label: missing === null ? '' : ` (${ci ? 'FAILS in CI' : 'skipped'}: ${missing})` };
}

/** Fails the suite when its tool is missing (reached only in CI, or when not skipped). */
export function requireTool(missing: string | null): void {
  if (missing !== null) throw new Error(`${missing}; .ci/run installs it`);
}

/** A fresh, realpath'd temporary directory. */
export function tempDir(prefix: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** A `bin` directory under `work` with a `linkcheck` that runs this checkout's CLI, for commands copied from docs and units. */
export function shimDir(work: string): string {
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'linkcheck'), `#!/bin/sh\nexec "${process.execPath}" "${REPO}bin/linkcheck.js" "$@"\n`, { mode: 0o755 });
  return bin;
}
