import { messageOf, withMessage } from '../rules/messages.js';
import type { CheckRecord, LinkRecord, StaleAllow, SuppressedFinding, UnreadableRecord } from '../audit/records.js';
import { toJsonText } from '../core/bytes.js';
import type { Credentials } from '../resolve/reader.js';
import type { Resolution } from '../resolve/resolver.js';

/**
 * The JSON shapes of the report (schemaVersion 1). Paths and texts go through toJsonText: valid
 * UTF-8 as is, other bytes as lone surrogates \udcXX, so every name round-trips exactly.
 */
export const SCHEMA_VERSION = 1;

function view(r: Resolution): object {
  return {
    status: r.status,
    resolved: r.resolved === null ? null : toJsonText(r.resolved),
    errno: r.errno,
    failedAt: r.failedAt === null ? null : toJsonText(r.failedAt),
    hops: r.hops.length,
  };
}

export function linkJson(rec: LinkRecord): object {
  return {
    path: toJsonText(rec.path),
    target: toJsonText(rec.target),
    inside: toJsonText(rec.inside),
    chroot: view(rec.chroot),
    host: view(rec.host),
    findings: rec.findings.map(withMessage),
    fix: rec.fix
      ? { target: toJsonText(rec.fix.target), intended: toJsonText(rec.fix.intended), safety: rec.fix.safety, why: rec.fix.why }
      : null,
    noFix: rec.noFix,
    ...(rec.suppressed ? { suppressed: rec.suppressed.map(suppressedJson) } : {}),
    ...(rec.layer ? { layer: { index: rec.layer.index, digest: rec.layer.digest } } : {}),
  };
}

/** An allowed finding: the finding, the allow entry's reason and its index in the list. */
function suppressedJson(f: SuppressedFinding): object {
  return { rule: f.rule, code: f.code, severity: f.severity, message: f.message, reason: f.reason, allow: f.allow };
}

function checkJson(c: CheckRecord): object {
  return { path: toJsonText(c.path), findings: c.findings.map(withMessage), suppressed: c.suppressed.map(suppressedJson) };
}

function staleJson(s: StaleAllow): object {
  return { allow: s.index, path: s.path, rules: s.rules, reason: s.reason, severity: 'info', message: s.message };
}

/**
 * The additive, config-only parts of the end of a report: `"checks"` when a --require or preset
 * check failed on a path that is not a link, `"stale"` when the run had an allow list. Empty for
 * a run without them, so such reports stay byte for byte as before.
 */
export function extrasJson(checks: readonly CheckRecord[], stale: readonly StaleAllow[] | undefined): Record<string, object[]> {
  const out: Record<string, object[]> = {};
  if (checks.length > 0) out.checks = checks.map(checkJson);
  if (stale !== undefined) out.stale = stale.map(staleJson);
  return out;
}

// Printable ASCII without '"' and '\\': such a string is its own JSON body, and the same as a byte string.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A byte string as a JSON string literal (see toJsonText). */
function bytesLit(b: string): string {
  return PLAIN.test(b) ? '"' + b + '"' : JSON.stringify(toJsonText(b));
}

/** An ordinary string as a JSON string literal. */
function textLit(s: string): string {
  return PLAIN.test(s) ? '"' + s + '"' : JSON.stringify(s);
}

function viewText(r: Resolution): string {
  return `{"status":"${r.status}","resolved":${r.resolved === null ? 'null' : bytesLit(r.resolved)},"errno":${r.errno === null ? 'null' : textLit(r.errno)},"failedAt":${r.failedAt === null ? 'null' : bytesLit(r.failedAt)},"hops":${r.hops.length}}`;
}

/**
 * JSON.stringify(linkJson(rec)), written directly: the report's hot path on big trees builds
 * no intermediate objects. A test holds the two equal.
 */
export function linkJsonText(rec: LinkRecord): string {
  let findings = '';
  for (const f of rec.findings) {
    findings += `${findings === '' ? '' : ','}{"rule":"${f.rule}","code":"${f.code}","severity":"${f.severity}","message":${textLit(messageOf(f))}}`;
  }
  const fix = rec.fix
    ? `{"target":${bytesLit(rec.fix.target)},"intended":${bytesLit(rec.fix.intended)},"safety":"${rec.fix.safety}","why":${textLit(rec.fix.why)}}`
    : 'null';
  const suppressed = rec.suppressed ? `,"suppressed":${JSON.stringify(rec.suppressed.map(suppressedJson))}` : '';
  const layer = rec.layer ? `,"layer":{"index":${rec.layer.index},"digest":${rec.layer.digest === null ? 'null' : textLit(rec.layer.digest)}}` : '';
  return `{"path":${bytesLit(rec.path)},"target":${bytesLit(rec.target)},"inside":${bytesLit(rec.inside)},"chroot":${viewText(rec.chroot)},"host":${viewText(rec.host)},"findings":[${findings}],"fix":${fix},"noFix":${rec.noFix === null ? 'null' : textLit(rec.noFix)}${suppressed}${layer}}`;
}

export function unreadableJson(u: UnreadableRecord): object {
  return { path: toJsonText(u.path), errno: u.errno, findings: [u.finding] };
}

export interface ReportHeader {
  root: string;
  scanned: readonly string[];
  /** --as-user: whose verdict the report is (absent otherwise, and from the JSON). */
  asUser?: Credentials | null | undefined;
  /** The run's preset, for the formats a person reads (not in the JSON: the run info has the rules). */
  preset?: string | null | undefined;
  /** --image: what was read (absent otherwise, and from the JSON). */
  image?: ImageHeader | null | undefined;
}

/**
 * The image a report judged (--image): the JSON's additive `"image"` member, its layers by diff
 * ID. Nothing about the form it was read from (a layout, an archive, the path given), so every
 * form of one image gives the same report. An image has no host view: its root is the report's
 * root, `/`, where the two views are one (as under --root /).
 */
export interface ImageHeader {
  layers: ReadonlyArray<{ index: number; digest: string | null }>;
}

export function headerJson(h: ReportHeader): { schemaVersion: number; root: string; scanned: string[]; asUser?: Credentials; image?: ImageHeader } {
  const head: ReturnType<typeof headerJson> = { schemaVersion: SCHEMA_VERSION, root: toJsonText(h.root), scanned: h.scanned.map(toJsonText) };
  if (h.asUser) {
    const { user, uid, gid, groups } = h.asUser;
    head.asUser = { user, uid, gid, groups: [...groups] };
  }
  if (h.image) head.image = { layers: h.image.layers.map((l) => ({ index: l.index, digest: l.digest })) };
  return head;
}

