import { LinkJudge } from './audit.js';
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
