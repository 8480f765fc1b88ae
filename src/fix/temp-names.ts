import { readFileSync } from 'node:fs';

/**
 * Temporary links are named `.linkcheck-tmp.<pid>.<start>.<n>`: the pid and the process start
 * time (clock ticks since boot, /proc/<pid>/stat field 22) together name one run, so a later run
 * can tell a leftover of a killed run from a live one, even after the pid is reused.
 */
const TEMP_PREFIX = '.linkcheck-tmp.';

export function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

const self = `${process.pid}.${startTicks(process.pid) ?? Date.now()}`;
let counter = 0;

export function nextTempName(): string {
  return `${TEMP_PREFIX}${self}.${counter++}`;
}

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** Whether the run that made a temp link is over (dead, a zombie, or its pid now another process). */
export function tempRunIsOver(name: string): boolean {
  const m = /^\.linkcheck-tmp\.(\d+)\.(\d+)\.\d+$/.exec(name);
  if (!m) return false; // not ours: leave it alone
  const pid = Number(m[1]);
  if (`${m[1]}.${m[2]}` === self) return false;
  const ticks = startTicks(pid);
  return ticks === null || ticks !== m[2];
}
