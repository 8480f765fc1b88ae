import { messageOf } from '../../rules/messages.js';
import { createHash } from 'node:crypto';
import type * as Sarif from 'sarif';
import type { Finding, LinkRecord, StaleAllow } from '../../audit/records.js';
import type { AppliedChange } from '../../fix/applied-change.js';
import { toDisplay, toJsonText } from '../../core/bytes.js';
import { changeJson } from '../change-json.js';
import type { ReportHeader } from '../json-shape.js';
import type { Clock, Reporter, ReportContext, RuleDoc } from '../reporter.js';

/**
 * SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, any SARIF viewer): one result per finding,
 * unreadable entries included, each located at the link's path relative to the scanned path it
 * lies under (`uriBaseId` TREE, TREE2...: `originalUriBaseIds` says where those are on the host),
 * with a fingerprint that stays the same wherever the tree sits on the host. Streamed like json:
 * one result a line, so memory stays flat on any tree.
 */
export function sarifReporter(ctx: ReportContext, clock: Clock): Reporter {
  let first = true;
  let where: Where = { root: '/', trees: [] };
  const index = new Map(ctx.run.rules.map((r, i) => [r.code, i]));
  // One result a line after the '[' begin() leaves open: a comma before all but the first.
  const line = (f: Finding, path: string, properties: Record<string, unknown>): string => {
    const s = (first ? '\n' : ',\n') + JSON.stringify(result(f, path, properties, where, index));
    first = false;
    return s;
  };

  return {
    begin(h) {
      where = { root: h.root, trees: h.scanned.map((base, i) => ({ base, id: i === 0 ? 'TREE' : `TREE${i + 1}` })) };
      return logHead(ctx, h, where.trees);
    },
    event(ev) {
      if (ev.type === 'unreadable') return line(ev.entry.finding, ev.entry.path, { errno: ev.entry.errno, fix: null, noFix: null });
      let out = '';
      for (const f of ev.link.findings) out += line(f, ev.link.path, linkProperties(ev.link));
      return out;
    },
    // A failed check on a path that is not a link (--require, a preset, an image's layers): a result like any other.
    check(c) {
      let out = '';
      for (const f of c.findings) out += line(f, c.path, { fix: null, noFix: null });
      return out;
    },
    end(summary, changes, extras) {
      const invocation: Sarif.Invocation = {
        executionSuccessful: true,
        startTimeUtc: new Date(ctx.run.startedAt).toISOString(),
        endTimeUtc: new Date(clock()).toISOString(),
        ...notifications(changes, extras?.stale),
        properties: { summary, changes: changes.map(changeJson) },
      };
      return `${first ? '' : '\n'}],\n"invocations":[${JSON.stringify(invocation)}]}]}\n`;
    },
  };
}

/**
 * The two causes of exit code 1 that are no finding, where a SARIF viewer shows them: a fix that
 * failed and was put back (a tool execution notification), an allow entry that matched nothing
 * (a tool configuration notification). Absent when there are none, so other logs are unchanged.
 */
function notifications(changes: readonly AppliedChange[], stale: readonly StaleAllow[] | undefined): Partial<Sarif.Invocation> {
  const out: Partial<Sarif.Invocation> = {};
  const failed = changes.filter((c) => c.status === 'failed');
  if (failed.length > 0)
    out.toolExecutionNotifications = failed.map((c) => ({
      level: 'error',
      descriptor: { id: 'fix-failed' },
      message: { text: `the fix of ${toDisplay(c.path)} failed and was put back: ${c.reason ?? 'it did not verify'}` },
    }));
  if (stale && stale.length > 0)
    out.toolConfigurationNotifications = stale.map((s) => ({ level: 'note', descriptor: { id: 'stale-allow' }, message: { text: `allow entry #${s.index + 1}: ${s.message}` } }));
  return out;
}

/** Where results sit: the root (a fingerprint's path is taken inside it) and each scanned path as a URI base. */
interface Where {
  root: string;
  trees: { base: string; id: string }[];
}

/** The log up to its results: the tool and its rules, the URI bases, the run's settings; `"results":[` left open. */
function logHead(ctx: ReportContext, h: ReportHeader, trees: Where['trees']): string {
  const run: Sarif.Run = {
    tool: {
      driver: {
        name: 'linkcheck',
        version: ctx.run.version,
        semanticVersion: ctx.run.version,
        rules: ctx.run.rules.map(ruleDescriptor),
      },
    },
    originalUriBaseIds: Object.fromEntries(
      trees.map((t) => [t.id, { uri: 'file://' + uriOf(t.base === '/' ? '/' : t.base + '/'), description: { text: 'a scanned path' } }]),
    ),
    properties: { root: toJsonText(h.root), scanned: h.scanned.map(toJsonText), mode: ctx.mode },
  };
  const log: Sarif.Log = { $schema: SCHEMA, version: '2.1.0', runs: [run] };
  // Everything up to the results, which follow one a line; end() closes the document.
  const head = JSON.stringify(log);
  return head.slice(0, -3) + ',"results":[';
}

/** One finding as a result, located relative to the scanned path it lies under. */
function result(f: Finding, path: string, properties: Record<string, unknown>, where: Where, index: Map<string, number>): Sarif.Result {
  const { root, trees } = where;
  const tree = trees.find((t) => path.startsWith(t.base === '/' ? '/' : t.base + '/')) ?? trees[0]!;
  const relative = path.slice(tree.base === '/' ? 1 : tree.base.length + 1);
  const inside = root === '/' ? path : path.slice(root.length);
  return {
    ruleId: f.code,
    ruleIndex: index.get(f.code) ?? -1,
    level: LEVEL[f.severity],
    message: { text: messageOf(f) },
    locations: [
      {
        physicalLocation: {
          // The scanned directory itself (unreadable at the top) is its base's own directory.
          artifactLocation: { uri: relative === '' ? './' : uriOf(relative), uriBaseId: tree.id },
          // A link has no lines; code scanning wants a region all the same.
          region: { startLine: 1 },
        },
      },
    ],
    partialFingerprints: { [FINGERPRINT]: fingerprint(f.code, inside) },
    properties: { rule: f.rule, path: toJsonText(path), inside: toJsonText(inside), ...properties },
  };
}

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
/** The fingerprint's name: versioned, so a change of recipe is a new key rather than a silent reshuffle of alerts. */
const FINGERPRINT = 'linkcheckFinding/v1';
const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;

function ruleDescriptor(r: RuleDoc): Sarif.ReportingDescriptor {
  return {
    id: r.code,
    name: r.id,
    shortDescription: { text: r.title },
    fullDescription: { text: `${r.what} ${r.why}` },
    help: { text: r.explain },
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: { fixable: r.fix === 'rewrite', tags: ['symlink'] },
  };
}

function linkProperties(rec: LinkRecord): Record<string, unknown> {
  return {
    target: toJsonText(rec.target),
    chroot: rec.chroot.status,
    host: rec.host.status,
    fix: rec.fix
      ? { target: toJsonText(rec.fix.target), intended: toJsonText(rec.fix.intended), safety: rec.fix.safety, why: rec.fix.why }
      : null,
    noFix: rec.noFix,
    ...(rec.layer ? { layer: { index: rec.layer.index, digest: rec.layer.digest } } : {}),
  };
}

/**
 * The same for a finding wherever the jail sits on the host (a CI checkout, a build directory)
 * and whatever the link's text or the message says: the rule and the link's path inside the root.
 */
function fingerprint(code: string, inside: string): string {
  return createHash('sha256').update(code + '\0').update(inside, 'latin1').digest('hex').slice(0, 32);
}

// RFC 3986 unreserved characters, '/' and the sub-delimiters that need no escaping in a path; ':'
// is escaped, so a first segment such as `a:b` is never read as a scheme.
const URI_SAFE = /^[A-Za-z0-9\-._~/!$&'()*+,;=@]$/;

/** A byte-string path as a URI path: every other byte percent-encoded, so any name round-trips. */
export function uriOf(bytes: string): string {
  let out = '';
  for (const ch of bytes) {
    if (URI_SAFE.test(ch)) out += ch;
    else out += '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
