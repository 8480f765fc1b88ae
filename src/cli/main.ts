import { fdWriter } from '../run/sink.js';
import { EXIT, run } from './program.js';

/**
 * The process edge: real stdio and environment in, exit code out. A UsageError is one line (the
 * CLI prints it); anything else is a bug and shows its stack, asking for a report.
 */
export async function main(): Promise<void> {
  // Written synchronously to the descriptor (process.stdout would write later, and a failed
  // write would surface after the exit code was decided): the same writer the audit thread uses.
  const out = fdWriter(1);
  try {
    process.exitCode = await run(process.argv.slice(2), {
      stdout: (s) => out(Buffer.from(s, 'utf8')),
      stderr: (s) => process.stderr.write(s),
      env: process.env,
      isTTY: process.stdout.isTTY === true,
      cwd: process.cwd(),
      stdoutFd: 1,
      ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
      stderrIsTTY: process.stderr.isTTY === true,
      ...(process.stderr.columns ? { stderrColumns: process.stderr.columns } : {}),
    });
  } catch (err) {
    process.stderr.write(`linkcheck: internal error, please report it with the command line that caused it:\n${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT.internal;
  }
}
