/**
 * linkcheck's library API, exactly what the README's Library section documents (a test holds the
 * two equal): the calls, the stream form, config loading, the rule list, the file system ports,
 * the byte-string helpers, the errors the calls throw, and the types they take and return.
 * Everything else in src/ is internal and free to change.
 */
export { audit, auditImage, fix, undo } from './api.js';
export type { FixOptions, FixResult, ImageAuditOptions, UndoCallOptions } from './api.js';
export { auditStream, auditSync } from './run/pipeline.js';
export type { AuditEvent, AuditResult, CheckRecord, Finding, LinkRecord, StaleAllow, Summary, SuppressedFinding, UnreadableRecord } from './audit/records.js';
export type { PlannedFix } from './audit/records.js';
export { loadConfig } from './config/file.js';
export type { ConfigFile, LoadedConfig } from './config/file.js';
export type { AllowEntry, PolicyOptions, Preset } from './config/policy.js';
export type { AuditOptions } from './config/settings.js';
export type { Credentials } from './resolve/reader.js';
export type { Hop, Resolution, Status } from './resolve/resolver.js';
export { nodeFsPort, memFsPort } from './core/fs-port.js';
export type { FsPort } from './core/fs-port.js';
export { rules, findRule } from './rules/registry.js';
export type { Rule, Severity, LinkFacts } from './rules/registry.js';
export type { AppliedChange } from './fix/applied-change.js';
export type { UndoResult } from './fix/undo.js';
export type { RunInfo } from './fix/journal.js';
export { Interrupted, JournalStopped } from './fix/apply.js';
export { Busy } from './fix/lock.js';
export { fromBytes, fromText, toBytes, toDisplay, toJsonText } from './core/bytes.js';
export { UsageError } from './core/errors.js';
