import { toJsonText } from '../core/bytes.js';
import type { AppliedChange } from '../fix/applied-change.js';

export function changeJson(c: AppliedChange): object {
  return { path: toJsonText(c.path), old: toJsonText(c.old), new: toJsonText(c.new), status: c.status, reason: c.reason };
}
