import { changeJson } from '../change-json.js';
import type { CheckRecord } from '../../audit/records.js';
import { extrasJson, headerJson, linkJsonText, unreadableJson } from '../json-shape.js';
import type { Reporter } from '../reporter.js';

/**
 * One link object a line, then one summary line (`"type": "summary"`) with the header fields,
 * unreadable entries and, after --fix, the changes. JSON escapes newlines and control characters,
 * so no name can break a line.
 */
export function ndjsonReporter(): Reporter {
  let header: object = {};
  const unreadable: object[] = [];
  const checks: CheckRecord[] = [];
  return {
    begin(h) {
      header = headerJson(h);
      return '';
    },
    event(ev) {
      if (ev.type === 'unreadable') {
        unreadable.push(unreadableJson(ev.entry));
        return '';
      }
      return linkJsonText(ev.link) + '\n';
    },
    check(c) {
      checks.push(c);
      return '';
    },
    end(summary, changes, extras) {
      return JSON.stringify({ type: 'summary', ...header, unreadable, ...extrasJson(checks, extras?.stale), changes: changes.map(changeJson), summary }) + '\n';
    },
  };
}

