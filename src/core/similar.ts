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
 * The name a word was probably meant to be, or null when it is like none of them: one slip for
 * names up to four letters, two for longer ones, case ignored. Commands and config keys alike.
 */
export function closest(word: string, names: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const n of names) {
    const d = editDistance(w, n.toLowerCase());
    if (d <= (n.length <= 4 ? 1 : 2) && d < bestDistance) {
      best = n;
      bestDistance = d;
    }
  }
  return best;
}
