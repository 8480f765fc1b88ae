import { changeJson } from './changes.js';
import { headerJson, linkJsonText, unreadableJson } from './json-shape.js';
import type { Reporter } from './reporter.js';

/**
 * One JSON document (schemaVersion 1), written as it goes: one link a line inside "links", so the
 * document is never held in memory whole.
 */
export function jsonReporter(): Reporter {
  let first = true;
  const unreadable: object[] = [];
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
    end(summary, changes) {
      return `${first ? '' : '\n'}],\n"unreadable":${JSON.stringify(unreadable)},\n"changes":${JSON.stringify(changes.map(changeJson))},\n"summary":${JSON.stringify(summary)}}\n`;
    },
  };
}
