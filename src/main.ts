import { run } from './cli.js';

/**
 * The process edge: real stdio and environment in, exit code out. A UsageError is one line (the
 * CLI prints it); anything else is a bug and shows its stack, asking for a report.
 */
export async function main(): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // `linkcheck ... | head` closes the pipe early: that is not an error worth a trace.
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    process.exitCode = await run(process.argv.slice(2), {
      stdout: (s) => process.stdout.write(s),
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
    process.exitCode = 70;
  }
}
