/**
 * `linkcheck rules`: one row per rule whose columns line up whatever the longest rule name
 * (layer-ambiguity, 15 characters): each column starts at the same place on every row, and two
 * spaces at least set it apart from the one before.
 */
import { describe, expect, it } from 'vitest';
import { listRules } from '../../../src/report/rules-text.js';
import { rules } from '../../../src/rules/registry.js';

describe('listRules', () => {
  it('sizes the name column to the longest name, two spaces before the severity', () => {
    const rows = listRules().split('\n').slice(0, rules.length);
    expect(rows.map((r) => r.slice(0, 5))).toEqual(rules.map((r) => r.code));
    const longest = Math.max(...rules.map((r) => r.id.length));
    expect(longest).toBeGreaterThanOrEqual('layer-ambiguity'.length);
    const at = new Set<number>();
    for (const row of rows) {
      const m = /^LC\d{3}  (\S+)( {2,})(error|warning|info) /.exec(row);
      expect(m, row).not.toBeNull();
      at.add(row.indexOf(m![3]!, 7 + m![1]!.length));
    }
    expect([...at]).toEqual([7 + longest + 2]);
  });
});
