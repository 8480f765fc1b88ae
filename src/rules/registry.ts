import { absolute } from './absolute.js';
import { dangling } from './dangling.js';
import { deployLayout } from './deploy-layout.js';
import { escapesRoot } from './escapes-root.js';
import { loop } from './loop.js';
import { noAccess } from './no-access.js';
import { nonCanonical } from './non-canonical.js';
import { requirement } from './requirement.js';
import { runtimeMount } from './runtime-mount.js';
import type { Rule, Severity } from './types.js';
import { unreadable } from './unreadable.js';
import { ownerMismatch } from './owner-mismatch.js';
import { viewMismatch } from './view-mismatch.js';
import { layerAmbiguity } from './layer-ambiguity.js';

export type { LinkFacts, Rule, Severity } from './types.js';

/** Every rule, in code order. A rule's id and code are never reused once published. */
export const rules = [absolute, escapesRoot, dangling, loop, viewMismatch, nonCanonical, unreadable, requirement, deployLayout, runtimeMount, noAccess, ownerMismatch, layerAmbiguity] as const satisfies readonly Rule[];

/** A rule by id (`absolute`) or code (`LC001`, any case). */
export function findRule(key: string): Rule | undefined {
  const k = key.trim();
  return rules.find((r) => r.id === k || r.code.toLowerCase() === k.toLowerCase());
}

/** A level a config may give a rule: a severity, or off. */
export type Level = Severity | 'off';
export const LEVELS = ['off', 'info', 'warning', 'error'] as const;

export const SEVERITY_RANK = { info: 1, warning: 2, error: 3 } as const;
