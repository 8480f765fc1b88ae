/**
 * Edit distance with adjacent transpositions counted as one edit (optimal string alignment):
 * `explian` is one slip away from `explain`, as a person types it.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The command a word was probably meant to be, or null when it looks like no command: one slip
 * for names up to four letters, two for longer ones, case ignored. Words with a `/` or a leading
 * `-` or `.` are paths or options, never commands.
 */
export function commandLike(word: string, commands: readonly string[]): string | null {
  if (word === '' || /[/]/.test(word) || word.startsWith('-') || word.startsWith('.')) return null;
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of commands) {
    const d = editDistance(w, c);
    if (d <= (c.length <= 4 ? 1 : 2) && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
