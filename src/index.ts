/** linkcheck's library API: the CLI is a thin layer over these. */
export { audit, auditStream, auditSync, Auditor } from './audit.js';
export type { AuditEvent, AuditResult, Finding, LinkRecord, Summary, UnreadableRecord } from './audit.js';
export type { AuditOptions, Settings } from './settings.js';
export { settingsFrom } from './settings.js';
export { Resolver, MAX_HOPS, cycleMembers } from './resolve.js';
export type { Hop, Resolution, Status, View } from './resolve.js';
export { nodeFsPort, memFsPort } from './fs-port.js';
export type { FsPort, Kind, LinkStat } from './fs-port.js';
export { rules, findRule } from './rules/index.js';
export type { Rule, Severity, LinkFacts } from './rules/index.js';
export { planLink } from './fix/plan.js';
export type { PlannedFix } from './fix/plan.js';
export { applyFixes, Interrupted } from './fix/apply.js';
export type { AppliedChange } from './fix/change.js';
export { undoJournal } from './fix/undo.js';
export { fromText, toDisplay, toJsonText, fromJsonText } from './bytes.js';
export { UsageError } from './errors.js';
export { run, EXIT } from './cli.js';
