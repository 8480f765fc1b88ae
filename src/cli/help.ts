import { type Command, Help } from 'commander';
import { EXIT_CODES } from './exit-codes.js';

/**
 * What `linkcheck --help` says beyond the option list. The scan is the hidden default command
 * `audit`, so commander would show only the other commands: `scanHelp` lists the scan's usage,
 * arguments and options on the program's own page.
 */

/** Names the command line takes as commands: a directory named like one is scanned as ./name. */
export const RESERVED = ['audit', 'rules', 'explain', 'undo', 'help'] as const;

const EXAMPLES = `Examples:
  Audit a tree as the jail at /srv/lighty sees it (and as the host does):
    linkcheck /srv/lighty/var/www/rails --root /srv/lighty
  Pre-restart health check: the exit code says whether to go on:
    linkcheck /srv/lighty/var/www/rails --root /srv/lighty --quiet && systemctl restart lighttpd
  Cron repair job: rewrite broken links, print what changed and what is left, keep a journal for undo:
    */15 * * * * root linkcheck /srv/lighty/var/www/rails --root /srv/lighty --fix --quiet --journal /var/log/linkcheck.journal
  One line per finding, for grep and editors:
    linkcheck /srv/lighty/var/www/rails --root /srv/lighty --format compact
  A container image's links as its container sees them, without extracting it:
    linkcheck --image app.tar`;

export function afterHelp(): string {
  const width = Math.max(...EXIT_CODES.map(([c]) => String(c).length));
  const codes = EXIT_CODES.map(([c, what]) => `  ${String(c).padEnd(width)}  ${what}`).join('\n');
  return `
${EXAMPLES}

Exit codes:
${codes}

Reserved names: ${RESERVED.join(', ')} are commands ("audit" is the scan, the default);
a directory of one of these names is scanned as ./name. A first word that names no
existing path but is one slip away from a command is taken as a mistyped command
(exit 2, with a suggestion); an existing directory of that name is scanned as usual.
Run "linkcheck rules" for the rules and "linkcheck explain <rule>" for one rule's documentation.`;
}

/**
 * Shows the scan command's usage line, arguments and options on the program's help page, ahead
 * of the program's own (--version, --help); other pages are commander's.
 */
export function scanHelp(program: Command, scan: Command): void {
  program.usage('<path...> [--root <dir>] [options]\n       linkcheck <command> [arguments]');
  const plain = new Help();
  program.configureHelp({
    visibleArguments: (cmd) => plain.visibleArguments(cmd === program ? scan : cmd),
    visibleOptions: (cmd) => (cmd === program ? [...scan.options.filter((o) => !o.hidden), ...plain.visibleOptions(program)] : plain.visibleOptions(cmd)),
  });
}
