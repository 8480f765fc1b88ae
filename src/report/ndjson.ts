import { changeJson } from './changes.js';
import { headerJson, linkJsonText, unreadableJson } from './json-shape.js';
import type { Reporter } from './reporter.js';

/**
 * One link object a line, then one summary line (`"type": "summary"`) with the header fields,
 * unreadable entries and, after --fix, the changes. JSON escapes newlines and control characters,
 * so no name can break a line.
 */
export function ndjsonReporter(): Reporter {
  let header: object = {};
  const unreadable: object[] = [];
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
    end(summary, changes) {
      return JSON.stringify({ type: 'summary', ...header, unreadable, changes: changes.map(changeJson), summary }) + '\n';
    },
  };
}

