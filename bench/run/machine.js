// @ts-check
// The machine a bench ran on, for the report.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** @param {string} cmd @param {string[]} args @param {() => string} otherwise */
function firstLine(cmd, args, otherwise) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : otherwise();
}

export function machineInfo() {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = (m[1] ?? '').trim();
  } catch {
    /* not linux */
  }
  const nproc = firstLine('nproc', [], () => String(os.availableParallelism?.() ?? os.cpus().length));
  const kernel = firstLine('uname', ['-srm'], () => `${os.type()} ${os.release()}`);
  /** @param {string} dir */
  const fsType = (dir) => {
    const r = spawnSync('df', ['-T', dir], { encoding: 'utf8' });
    return r.status === 0 ? (r.stdout.trim().split('\n').pop() || '').split(/\s+/)[1] : 'unknown';
  };
  const memGB = (os.totalmem() / 2 ** 30).toFixed(1);
  return { cpu, nproc, kernel, node: process.version, memGB, fsType };
}
