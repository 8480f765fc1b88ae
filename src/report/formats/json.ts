import { changeJson } from '../change-json.js';
import type { CheckRecord } from '../../audit/records.js';
import { extrasJson, headerJson, linkJsonText, unreadableJson } from '../json-shape.js';
import type { Reporter } from '../reporter.js';

/**
 * One JSON document (schemaVersion 1), written as it goes: one link a line inside "links", so the
 * document is never held in memory whole.
 */
export function jsonReporter(): Reporter {
  let first = true;
  const unreadable: object[] = [];
  const checks: CheckRecord[] = [];
  return {
    begin(h) {
      const head = JSON.stringify(headerJson(h));
      return head.slice(0, -1) + ',\n"links":[';
    },
    event(ev) {
      if (ev.type === 'unreadable') {
        unreadable.push(unreadableJson(ev.entry));
        return '';
      }
      const s = (first ? '\n' : ',\n') + linkJsonText(ev.link);
      first = false;
      return s;
    },
    check(c) {
      checks.push(c);
      return '';
    },
    end(summary, changes, extras) {
      let more = '';
      for (const [k, v] of Object.entries(extrasJson(checks, extras?.stale))) more += `,\n"${k}":${JSON.stringify(v)}`;
      return `${first ? '' : '\n'}],\n"unreadable":${JSON.stringify(unreadable)}${more},\n"changes":${JSON.stringify(changes.map(changeJson))},\n"summary":${JSON.stringify(summary)}}\n`;
    },
  };
}
