/**
 * `--fix --dry-run --image` ends with the plan as Dockerfile lines in the exec form,
 * `RUN ["ln", "-sfn", "--", "<text>", "<path>"]`: JSON strings, which a Dockerfile reads with JSON's
 * escapes, so the line makes exactly the name planned whatever bytes it holds (newline, tab,
 * backslash, quotes, control bytes). A name or text that is not UTF-8 cannot be written in a
 * Dockerfile at all: a `# ` comment says so in its place. Each RUN line is parsed back here
 * and held to the exact bytes.
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../support/cli.js';
import { ociLayoutFiles, rawTar, tempDir, writeFiles } from '../unit/image/image-builder.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

// Names are byte strings (one char a byte): `\xc3\xa9` is é in UTF-8, `\xff` and `\xe9` alone are not UTF-8.
const ODD = 'we"ird\n\t\\\x01\x7f\'q caf\xc3\xa9';
const TARGET = 't\na"rg\\et\x02';
const layer = rawTar([
  { name: 'data/', type: 'dir' },
  { name: `data/${TARGET}`, content: 'x' },
  { name: 'data/plain', content: 'x' },
  { name: 'data/caf\xe9', content: 'x' },
  { name: 'bin/', type: 'dir' },
  // Absolute links that resolve: at --rule absolute=warning each gets a planned fix.
  { name: `bin/${ODD}`, type: 'symlink', linkname: `/data/${TARGET}` },
  { name: 'bin/bad\xff', type: 'symlink', linkname: '/data/plain' },
  { name: 'bin/latin', type: 'symlink', linkname: '/data/caf\xe9' },
]);
const image = writeFiles(path.join(tmp.dir, 'odd'), ociLayoutFiles([{ layers: [layer] }]).files);

const bytes = (b: string): Buffer => Buffer.from(b, 'latin1');

describe('--fix --dry-run --image: the Dockerfile lines', () => {
  it('are exec-form RUN lines whose JSON strings are the exact names; a name that is not UTF-8 gets a comment', async () => {
    const r = await runCliInProcess(['--image', image, '--fix', '--dry-run', '--fail-on', 'never', '--rule', 'absolute=warning', '--no-config'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(0);
    const tail = r.stdout.slice(r.stdout.indexOf('In the Dockerfile'));
    const lines = tail.split('\n').slice(1, -1);
    expect(lines).toHaveLength(3);

    const runs = lines.filter((l) => l.startsWith('RUN '));
    expect(runs).toHaveLength(1);
    const argv = JSON.parse(runs[0]!.slice('RUN '.length)) as unknown;
    expect(Array.isArray(argv) && argv.every((a) => typeof a === 'string')).toBe(true);
    const [ln, flags, dashes, text, where] = argv as string[];
    expect([ln, flags, dashes]).toEqual(['ln', '-sfn', '--']);
    // JSON's strings are UTF-8 text: their bytes are the name's.
    expect(Buffer.from(text!, 'utf8')).toEqual(bytes(`../data/${TARGET}`));
    expect(Buffer.from(where!, 'utf8')).toEqual(bytes(`/bin/${ODD}`));

    // Not UTF-8 (the link's name; the link's text): a comment each, naming the link as the report does.
    const comments = lines.filter((l) => l.startsWith('# '));
    expect(comments).toHaveLength(2);
    expect(comments.find((l) => l.includes('/bin/bad\\xff'))).toMatch(/not UTF-8/);
    expect(comments.find((l) => l.includes('/bin/latin'))).toMatch(/caf\\xe9.*not UTF-8/);

    // Nothing a terminal would act on: control characters are JSON escapes, not bytes.
    expect(tail).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});
