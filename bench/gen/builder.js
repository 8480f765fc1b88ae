// @ts-check
// Writes a generated tree to disk and counts what it made. Dirs and files are budgeted (a
// release stops growing when its budget is spent: FULL is thrown); links are budgeted apart.
import fs from 'node:fs';
import path from 'node:path';
import { EXOTIC, WORDS } from './vocab.js';

/** @typedef {import('./rng.js').Rng} Rng */
/**
 * A directory of the tree: its path under the root ('' = the root) and the names taken in it.
 * @typedef {{ rel: string, names: Set<string> }} DirNode
 */

/** Thrown by the builder when the current budget is spent. */
export const FULL = Symbol('budget-full');

export class Builder {
  /** @param {string} rootAbs */
  constructor(rootAbs) {
    this.rootAbs = rootAbs;
    this.dirs = 0;
    this.files = 0;
    this.links = 0;
    /** @type {Record<string, number>} */
    this.kinds = Object.create(null);
    /** Cap on dirs + files (links are budgeted separately). */
    this.limit = Infinity;
    /** @type {{ dirs: DirNode[], files: string[] } | null} what a release being built made */
    this.collect = null;
  }

  get entries() {
    return this.dirs + this.files + this.links;
  }

  /** @param {string} rel */
  abs(rel) {
    return rel === '' ? this.rootAbs : this.rootAbs + '/' + rel;
  }

  /** @param {string} rel @returns {DirNode} */
  node(rel) {
    return { rel, names: new Set() };
  }

  /**
   * `name`, or `stem-2.ext`, `stem-3.ext`... when `parent` has it already; taken in `parent`.
   * @param {DirNode} parent @param {string} name
   */
  unique(parent, name) {
    if (!parent.names.has(name)) {
      parent.names.add(name);
      return name;
    }
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    for (let i = 2; ; i++) {
      const n = `${stem}-${i}${ext}`;
      if (!parent.names.has(n)) {
        parent.names.add(n);
        return n;
      }
    }
  }

  /** @param {boolean} force */
  check(force) {
    if (!force && this.dirs + this.files >= this.limit) throw FULL;
  }

  /** @param {DirNode} parent @param {string} name @param {boolean} [force] ignore the budget */
  mkdir(parent, name, force = false) {
    this.check(force);
    const n = this.unique(parent, name);
    const rel = parent.rel === '' ? n : parent.rel + '/' + n;
    fs.mkdirSync(this.abs(rel));
    this.dirs++;
    const node = this.node(rel);
    if (this.collect) this.collect.dirs.push(node);
    return node;
  }

  /** @param {DirNode} parent @param {string} name @param {string} [content] @param {boolean} [force] */
  file(parent, name, content = '', force = false) {
    this.check(force);
    const n = this.unique(parent, name);
    const rel = parent.rel === '' ? n : parent.rel + '/' + n;
    fs.writeFileSync(this.abs(rel), content);
    this.files++;
    if (this.collect) this.collect.files.push(rel);
    return rel;
  }

  /**
   * @param {DirNode} parent @param {string} name @param {string} target @param {string} kind
   * @param {boolean} [reserved] `name` was taken by `unique` already
   */
  link(parent, name, target, kind, reserved = false) {
    const n = reserved ? name : this.unique(parent, name);
    const rel = parent.rel === '' ? n : parent.rel + '/' + n;
    fs.symlinkSync(target, this.abs(rel));
    this.links++;
    this.kinds[kind] = (this.kinds[kind] || 0) + 1;
    return rel;
  }
}

/**
 * Relative link text from directory `fromDir` to `target` (both relative to the root, '' = root).
 * @param {string} fromDir @param {string} target
 */
export function relTarget(fromDir, target) {
  const r = path.posix.relative('/' + fromDir, '/' + target);
  return r === '' ? '.' : r;
}

/** @param {string} rel */
export function depthOf(rel) {
  return rel === '' ? 0 : rel.split('/').length;
}

/** @param {Rng} rng @param {readonly string[]} exts */
export function fileName(rng, exts) {
  if (rng.chance(0.04)) {
    const e = rng.pick(EXOTIC);
    return rng.chance(0.5) ? e + rng.pick(exts) : e + ' ' + rng.pick(WORDS) + rng.pick(exts);
  }
  const w = rng.pick(WORDS);
  const r = rng.int(10);
  if (r < 5) return w + rng.pick(exts);
  if (r < 8) return w + '_' + rng.pick(WORDS) + rng.pick(exts);
  return rng.pick(WORDS) + '-' + w + rng.pick(exts);
}

/** @param {Rng} rng @param {string} name */
export function content(rng, name) {
  if (name.endsWith('.rb') || name.endsWith('.rake')) {
    const cls = name.replace(/\W+/g, '_');
    return `# frozen_string_literal: true\n\nmodule Gen\n  class C_${cls}\n    VALUE = ${rng.int(100000)}\n  end\nend\n`;
  }
  if (name.endsWith('.json')) return `{"name":"${name.replace(/"/g, '')}","v":${rng.int(1000)}}\n`;
  if (name.endsWith('.js') || name.endsWith('.mjs') || name.endsWith('.cjs')) return `export const v${rng.int(1e6)} = ${rng.int(1e6)};\n`;
  if (rng.chance(0.15)) return '';
  return `${name} ${rng.hex(16)}\n`;
}
