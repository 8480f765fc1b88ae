/** A task's outcome, kept so a failure waits for its turn instead of rejecting on its own. */
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface ReadAhead<T> {
  /** Task `i`'s outcome; ask in order 0, 1, 2, ... */
  take(i: number): Promise<Settled<T>>;
  /** Starts nothing more and waits for what is running (before the files it reads are closed). */
  stop(): Promise<void>;
}

/**
 * Runs `count` tasks in index order, at most `atOnce` at a time and at most `ahead` past the one
 * taken last, so that a slow task does not hold back the start of the next ones (a big layer
 * beside small ones) and finished work waiting for its turn stays bounded.
 */
export function readAhead<T>(count: number, run: (i: number) => Promise<T>, atOnce: number, ahead: number): ReadAhead<T> {
  const started: Array<Promise<Settled<T>>> = [];
  let running = 0;
  let taken = 0;
  let stopped = false;
  const pump = (): void => {
    while (!stopped && running < atOnce && started.length < count && started.length < taken + ahead) {
      const i = started.length;
      running++;
      started.push(
        run(i).then(
          (value): Settled<T> => ({ ok: true, value }),
          (error: unknown): Settled<T> => ({ ok: false, error }),
        ).finally(() => {
          running--;
          pump();
        }),
      );
    }
  };
  return {
    take(i) {
      taken = i;
      pump();
      return started[i]!;
    },
    async stop() {
      stopped = true;
      await Promise.all(started);
    },
  };
}
