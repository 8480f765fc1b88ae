/** What happened to one planned fix. Paths and texts are byte strings. */
export interface AppliedChange {
  path: string;
  old: string;
  new: string;
  /** changed: rewritten and confirmed; planned: --dry-run; skipped: left alone (see reason); failed: put back, see reason; removed: a stale temporary link cleaned up. */
  status: 'changed' | 'planned' | 'skipped' | 'failed' | 'removed';
  reason: string | null;
  /** Skipped because another process changed the link (or a directory on its way) during the run. */
  concurrent?: boolean;
}

/** A plan shown as changes (--fix --dry-run). */
export function plannedChanges(fixes: readonly { path: string; old: string; target: string }[]): AppliedChange[] {
  return fixes.map((f) => ({ path: f.path, old: f.old, new: f.target, status: 'planned', reason: null }));
}
