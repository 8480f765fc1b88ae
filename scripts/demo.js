// The README's demo: a fresh copy of the Capistrano-in-chroot story under a temp dir, audited,
// planned, fixed and audited again, with the real CLI. `--keep` leaves the copy for a look.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { capistrano, JAIL, APP } from '../dist/fixtures/capistrano.js';
import { materialise } from '../dist/fixtures/tree.js';
import { colorWanted } from '../dist/src/cli/exit-codes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'bin', 'linkcheck.js');
const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-demo-')));
materialise(fs, base, capistrano);
const root = path.join(base, JAIL);
const app = root + APP;

// Bold headings on a terminal only, as the CLI colours (NO_COLOR and FORCE_COLOR too).
const bold = colorWanted(true, process.env, process.stdout.isTTY === true) ? (s) => `\x1b[1m${s}\x1b[0m` : (s) => s;

const step = (title, args) => {
  process.stdout.write(`\n${bold(`== ${title}`)}\n$ linkcheck ${args.map((a) => a.replace(base, '$DEMO')).join(' ')}\n\n`);
  // A terminal's own width; piped, the width of a usual one, so the report reads as on screen.
  const columns = process.env.COLUMNS || String(process.stdout.columns || 100);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', env: { ...process.env, COLUMNS: columns } });
  process.stdout.write(`(exit code ${r.status})\n`);
  return r.status;
};

process.stdout.write(`A copy of the story: lighttpd jailed at ${root} ($DEMO=${base}),\nCapistrano links written as host paths.\n`);
step('1. Audit, as a pre-restart check would', [app, '--root', root]);
step('2. What --fix would change', [app, '--root', root, '--fix', '--dry-run', '--quiet']);
step('3. Repair, as the cron job does (quiet unless it changed something)', [app, '--root', root, '--fix', '--quiet', '--journal', path.join(base, 'linkcheck.journal')]);
const code = step('4. Audit again', [app, '--root', root]);
if (process.argv.includes('--keep')) process.stdout.write(`\nThe copy is kept at ${base}\n`);
else fs.rmSync(base, { recursive: true, force: true });
process.exitCode = code === 0 ? 0 : 1;
