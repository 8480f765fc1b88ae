/**
 * A small JSON reader that remembers where each value sits, so a config error can name its line.
 * JSON.parse gives no positions; what it accepts this accepts too (RFC 8259), and a key given
 * twice is an error here (JSON.parse would keep the last one silently).
 */
export class JsonTextError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface ParsedJson {
  value: unknown;
  /** JSON pointer ('' for the document, '/rules/absolute') -> offset of the member's key, or of the value. */
  offsets: Map<string, number>;
}

export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

const escapePointer = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

export function parseJsonText(text: string): ParsedJson {
  const offsets = new Map<string, number>();
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new JsonTextError(i >= text.length ? `unexpected end of file, ${what}` : `unexpected ${JSON.stringify(text[i])}, ${what}`, i);
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('a control character inside a string');
      i++;
    }
    if (i >= text.length) fail('a string is not closed');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('a bad escape in a string');
    }
  };
  const value = (ptr: string, at: number): unknown => {
    ws();
    if (!offsets.has(ptr)) offsets.set(ptr, at < 0 ? i : at);
    const ch = text[i];
    if (ch === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key in double quotes');
        const keyAt = i;
        const key = str();
        if (Object.prototype.hasOwnProperty.call(obj, key)) throw new JsonTextError(`key "${key}" is given twice`, keyAt);
        ws();
        if (text[i] !== ':') fail('expected ":" after a key');
        i++;
        obj[key] = value(`${ptr}/${escapePointer(key)}`, keyAt);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected "," or "}"');
      }
    }
    if (ch === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(`${ptr}/${arr.length}`, -1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected "," or "]"');
      }
    }
    if (ch === '"') return str();
    LITERAL.lastIndex = i;
    const m = LITERAL.exec(text);
    if (!m) return fail('expected a value');
    i += m[0].length;
    return JSON.parse(m[0]) as unknown;
  };
  const v = value('', 0);
  ws();
  if (i < text.length) fail('expected the end of the file');
  return { value: v, offsets };
}
