// Types for bench/gen-tree.js (plain JS so the bench runs without a build).

export declare const GENERATOR_VERSION: number;

/** [kind, weight] pairs of the random links the generator makes. */
export declare const LINK_KINDS: ReadonlyArray<readonly [string, number]>;

export interface GenerateOptions {
  /** Directory that becomes the chroot root; created, must be empty unless force. */
  out: string;
  /** About this many entries (dirs + files + links) in total. */
  entries: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Share of the entries that are symlinks (default 0.1). */
  linkRatio?: number;
  /** Replace a non-empty `out`. */
  force?: boolean;
}

export interface GenerateResult {
  out: string;
  entries: number;
  dirs: number;
  files: number;
  links: number;
  /** Links per kind: 'fixed' (Capistrano's current/log/... and system links) and the LINK_KINDS. */
  kinds: Record<string, number>;
  apps: Array<{ name: string; style: 'host' | 'relative' | 'chroot'; releases: string[] }>;
  seed: number;
  linkRatio: number;
  /** Generation time in milliseconds. */
  ms: number;
}

export declare function generate(opts: GenerateOptions): GenerateResult;

/** mulberry32 PRNG: returns a function giving floats in [0, 1). */
export declare function mulberry32(seed: number): () => number;

/** Parse "300k", "1m", "12345". */
export declare function parseCount(s: string | number): number;
