import { closest } from '../core/similar.js';

/**
 * The command a word was probably meant to be, or null when it looks like no command: one slip
 * for names up to four letters, two for longer ones, case ignored. Words with a `/` or a leading
 * `-` or `.` are paths or options, never commands.
 */
export function commandLike(word: string, commands: readonly string[]): string | null {
  if (word === '' || /[/]/.test(word) || word.startsWith('-') || word.startsWith('.')) return null;
  return closest(word, commands);
}
