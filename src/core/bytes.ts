/**
 * Paths inside linkcheck are "byte strings": latin1-decoded strings in which each char is one byte
 * of the real name. That keeps non-UTF-8 names exact (a UTF-8 string would replace their bytes
 * with U+FFFD and then name a different file) while staying cheap to compare, slice and hash.
 * Conversion happens only at the edges: arguments in, syscalls, and output.
 */

const NON_ASCII = /[\u0080-\uffff]/;

/** A user-supplied (UTF-8) string as a byte string. */
export function fromText(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

/** A byte string as the argument a node:fs call needs to name exactly those bytes. */
export function toNative(b: string): string | Buffer {
  return NON_ASCII.test(b) ? Buffer.from(b, 'latin1') : b;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A byte string as a JS string for JSON: valid UTF-8 decodes as usual; each byte that is not part
 * of valid UTF-8 becomes the lone surrogate U+DC00+byte (Python's "surrogateescape"). JSON.stringify
 * writes those as `\udcXX`, which no UTF-8 name can produce, so names never collide and
 * `os.fsencode(json.loads(...))` gives the exact bytes back.
 */
export function toJsonText(b: string): string {
  if (!NON_ASCII.test(b)) return b;
  const buf = Buffer.from(b, 'latin1');
  try {
    return utf8.decode(buf);
  } catch {
    return decodeSurrogateEscape(buf);
  }
}

/**
 * The exact bytes of a path or link text as the library's results give it (see toJsonText): a
 * name that is not valid UTF-8 gets its own bytes back, for node:fs calls that take a Buffer.
 */
export function toBytes(text: string): Buffer {
  return Buffer.from(fromJsonText(text), 'latin1');
}

/** A name's raw bytes (a Buffer from node:fs) as the library takes and gives paths: the inverse of toBytes. */
export function fromBytes(bytes: Uint8Array): string {
  return toJsonText(Buffer.from(bytes).toString('latin1'));
}

/** Inverse of toJsonText: a surrogate-escaped string back to a byte string. */
export function fromJsonText(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) {
      if (run) parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.from([cp - 0xdc00]));
    } else run += ch;
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts).toString('latin1');
}

function decodeSurrogateEscape(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const b0 = buf[i]!;
    const len = b0 < 0x80 ? 1 : b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
    if (len > 0 && i + len <= buf.length && validSequence(buf, i, len)) {
      out += len === 1 ? String.fromCharCode(b0) : buf.toString('utf8', i, i + len);
      i += len;
    } else {
      out += String.fromCharCode(0xdc00 + b0);
      i += 1;
    }
  }
  return out;
}

function validSequence(buf: Buffer, i: number, len: number): boolean {
  const b0 = buf[i]!;
  for (let k = 1; k < len; k++) {
    const b = buf[i + k]!;
    if ((b & 0xc0) !== 0x80) return false;
  }
  if (len === 3) {
    const b1 = buf[i + 1]!;
    if (b0 === 0xe0 && b1 < 0xa0) return false; // overlong
    if (b0 === 0xed && b1 >= 0xa0) return false; // UTF-16 surrogates
  }
  if (len === 4) {
    const b1 = buf[i + 1]!;
    if (b0 === 0xf0 && b1 < 0x90) return false; // overlong
    if (b0 === 0xf4 && b1 >= 0x90) return false; // above U+10FFFF
  }
  return true;
}

// Control characters (C0, DEL, C1), bidi controls and escaped bytes would let a crafted name move
// the cursor, recolour the terminal, reorder text or fake a second line in human output.
const UNSAFE_DISPLAY = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\udc80-\udcff\\]/g;

/**
 * A byte string for a terminal or a log line: printable text as it is, and every control,
 * bidi-control or invalid byte as a backslash escape (`\n`, `\x1b`, `\xff`, `\u202e`). The
 * backslash itself is doubled, so the escaped form is unambiguous.
 */
const PRINTABLE_ASCII = /^[\x20-\x5b\x5d-\x7e]*$/;

export function toDisplay(b: string): string {
  if (PRINTABLE_ASCII.test(b)) return b;
  const s = toJsonText(b);
  return s.replace(UNSAFE_DISPLAY, (ch) => {
    const cp = ch.charCodeAt(0);
    switch (ch) {
      case '\\':
        return '\\\\';
      case '\n':
        return '\\n';
      case '\t':
        return '\\t';
      case '\r':
        return '\\r';
    }
    if (cp >= 0xdc80 && cp <= 0xdcff) return '\\x' + (cp - 0xdc00).toString(16).padStart(2, '0');
    if (cp < 0x100) return '\\x' + cp.toString(16).padStart(2, '0');
    return '\\u' + cp.toString(16).padStart(4, '0');
  });
}
