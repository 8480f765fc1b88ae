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
  const reader = new JsonReader(text);
  const value = reader.document();
  return { value, offsets: reader.offsets };
}

/** One pass over a JSON text: `i` is the offset of the next character to read. */
class JsonReader {
  readonly offsets = new Map<string, number>();
  private i = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    const v = this.value('', 0);
    this.ws();
    if (this.i < this.text.length) this.fail('expected the end of the file');
    return v;
  }

  /** The value at JSON pointer `ptr`; `at` is its key's offset, or -1 for an array element (its own offset is kept). */
  private value(ptr: string, at: number): unknown {
    this.ws();
    if (!this.offsets.has(ptr)) this.offsets.set(ptr, at < 0 ? this.i : at);
    switch (this.text[this.i]) {
      case '{':
        return this.object(ptr);
      case '[':
        return this.array(ptr);
      case '"':
        return this.string();
      default:
        return this.literal();
    }
  }

  private object(ptr: string): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    this.items('}', () => {
      if (this.text[this.i] !== '"') this.fail('expected a key in double quotes');
      const keyAt = this.i;
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(obj, key)) throw new JsonTextError(`key "${key}" is given twice`, keyAt);
      this.ws();
      if (this.text[this.i] !== ':') this.fail('expected ":" after a key');
      this.i++;
      obj[key] = this.value(`${ptr}/${escapePointer(key)}`, keyAt);
    });
    return obj;
  }

  private array(ptr: string): unknown[] {
    const arr: unknown[] = [];
    this.items(']', () => arr.push(this.value(`${ptr}/${arr.length}`, -1)));
    return arr;
  }

  /** An object's members or an array's elements: from the opening bracket, items separated by commas, up to `close`. */
  private items(close: '}' | ']', item: () => void): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      item();
      this.ws();
      if (this.text[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.text[this.i] === close) {
        this.i++;
        return;
      }
      this.fail(`expected "," or "${close}"`);
    }
  }

  private string(): string {
    const { text } = this;
    const start = this.i;
    this.i++;
    while (this.i < text.length && text[this.i] !== '"') {
      if (text[this.i] === '\\') this.i++;
      else if (text.charCodeAt(this.i) < 0x20) this.fail('a control character inside a string');
      this.i++;
    }
    if (this.i >= text.length) this.fail('a string is not closed');
    this.i++;
    try {
      return JSON.parse(text.slice(start, this.i)) as string;
    } catch {
      // Let JSON.parse judge the escapes; the error points at the string's opening quote.
      this.i = start;
      return this.fail('a bad escape in a string');
    }
  }

  private literal(): unknown {
    LITERAL.lastIndex = this.i;
    const m = LITERAL.exec(this.text);
    if (!m) return this.fail('expected a value');
    this.i += m[0].length;
    return JSON.parse(m[0]) as unknown;
  }

  private ws(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i++;
  }

  private fail(what: string): never {
    const { text, i } = this;
    throw new JsonTextError(i >= text.length ? `unexpected end of file, ${what}` : `unexpected ${JSON.stringify(text[i])}, ${what}`, i);
  }
}
