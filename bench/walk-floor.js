#!/usr/bin/env node
// @ts-check
// The floor for any Node walker, as a reference row in the bench: what find -type l -printf
// does (list every directory, read every link, print `path -> text`), written the fastest way
// measured in Node: a depth-first readdirSync(withFileTypes) walk with readlinkSync, on one
// thread, nothing else. linkcheck's walking thread does this plus handing links over; the
// distance between this row and find is Node's, not linkcheck's.
//
//   node bench/walk-floor.js TREE > /dev/null

import fs from 'node:fs';

// Names as raw bytes (latin1 strings), turned back into a Buffer where a byte is not ASCII.
const NON_ASCII = /[\u0080-\uffff]/;
/** @param {string} p */
const native = (p) => (NON_ASCII.test(p) ? Buffer.from(p, 'latin1') : p);
let out = '';
/** @param {string} s */
const emit = (s) => {
  out += s;
  if (out.length > 1 << 16) {
    fs.writeSync(1, out, null, 'latin1');
    out = '';
  }
};
/** @param {string} dir */
function walk(dir) {
  for (const e of fs.readdirSync(native(dir), { withFileTypes: true, encoding: 'latin1' })) {
    const p = dir + '/' + e.name;
    if (e.isDirectory()) walk(p);
    else if (e.isSymbolicLink()) emit(p + ' -> ' + fs.readlinkSync(native(p), 'latin1') + '\n');
  }
}
if (process.argv.length !== 3) {
  console.error('usage: node bench/walk-floor.js TREE');
  process.exit(2);
}
walk(/** @type {string} */ (process.argv[2]).replace(/\/+$/, '') || '/');
fs.writeSync(1, out, null, 'latin1');
