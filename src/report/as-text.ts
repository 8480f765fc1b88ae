import type { AuditEvent, AuditResult, CheckRecord, LinkRecord, PlannedFix, UnreadableRecord } from '../audit/records.js';
import { toJsonText } from '../core/bytes.js';
import type { AppliedChange } from '../fix/applied-change.js';
import type { Hop, Resolution } from '../resolve/resolver.js';

/**
 * Records as the library hands them out: every path and link text an ordinary string, the way
 * the JSON report writes them (valid UTF-8 as is; a byte that is not part of valid UTF-8 as the
 * lone surrogate U+DC00+byte), so `café` prints as `café` and `toBytes()` gives any name's
 * exact bytes back. Inside, paths stay byte strings (see core/bytes.ts); this is the edge.
 */
const text = toJsonText;

function hopAsText(h: Hop): Hop {
  return { path: text(h.path), text: text(h.text) };
}

function viewAsText(r: Resolution): Resolution {
  const hops = r.hops.map(hopAsText);
  if (r.status === 'ok') return { ...r, resolved: text(r.resolved), hops };
  return { ...r, failedAt: r.failedAt === null ? null : text(r.failedAt), hops };
}

function fixAsText(f: PlannedFix): PlannedFix {
  return { ...f, path: text(f.path), old: text(f.old), target: text(f.target), intended: text(f.intended) };
}

export function linkAsText(rec: LinkRecord): LinkRecord {
  return {
    ...rec,
    path: text(rec.path),
    target: text(rec.target),
    inside: text(rec.inside),
    chroot: viewAsText(rec.chroot),
    host: viewAsText(rec.host),
    fix: rec.fix ? fixAsText(rec.fix) : null,
  };
}

export function unreadableAsText(u: UnreadableRecord): UnreadableRecord {
  return { ...u, path: text(u.path) };
}

export function checkAsText(c: CheckRecord): CheckRecord {
  return { ...c, path: text(c.path) };
}

export function eventAsText(ev: AuditEvent): AuditEvent {
  return ev.type === 'link' ? { type: 'link', link: linkAsText(ev.link) } : { type: 'unreadable', entry: unreadableAsText(ev.entry) };
}

export function changeAsText(c: AppliedChange): AppliedChange {
  return { ...c, path: text(c.path), old: text(c.old), new: text(c.new) };
}

export function resultAsText(r: AuditResult): AuditResult {
  const out: AuditResult = { ...r, root: text(r.root), scanned: r.scanned.map(text), links: r.links.map(linkAsText), unreadable: r.unreadable.map(unreadableAsText) };
  if (r.checks) out.checks = r.checks.map(checkAsText);
  return out;
}
