import { type AuditEvent, type AuditResult, LinkJudge, type Summary } from './audit.js';
import { FixPlanner } from './fix/planner.js';
import type { PlannedFix } from './planned-fix.js';
import type { AuditOptions, Settings } from './settings.js';

/**
 * The judge with its fix planner: links are judged and, where the rules want it, planned for a
 * fix, as one pass over the walk (see README, Development).
 */
export class Auditor extends LinkJudge {
  private readonly fixPlanner: FixPlanner;

  /** `collectFixes: false` keeps no list of fixes (an audit that will not apply them). */
  constructor(settingsOrOptions: Settings | AuditOptions, options: { collectFixes?: boolean } = {}) {
    let made: FixPlanner | undefined;
    super(settingsOrOptions, (judge) => (made = new FixPlanner(judge, options.collectFixes ?? true)));
    this.fixPlanner = made!;
  }

  /** Planned fixes in an order where every fix comes after those it relies on (unless not collected). */
  get fixes(): PlannedFix[] {
    return this.fixPlanner.fixes;
  }

  /** Temporary links of a fixer run (ours or an interrupted one's) met by the walk. */
  get leftovers(): string[] {
    return this.fixPlanner.leftovers;
  }
}

/** Audits the given paths and returns everything found. Byte-string paths: see bytes.ts. */
export function auditSync(options: AuditOptions): AuditResult {
  return new Auditor(options).collect();
}

export async function audit(options: AuditOptions): Promise<AuditResult> {
  return auditSync(options);
}

/** The audit as a stream of events, for huge trees: memory stays flat. */
export async function* auditStream(options: AuditOptions): AsyncGenerator<AuditEvent, Summary> {
  const a = new Auditor(options);
  for (const ev of a.events()) yield ev;
  return a.summary;
}
