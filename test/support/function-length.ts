import { API } from 'typescript/unstable/sync';
import { createVirtualFileSystem } from 'typescript/unstable/fs';
import { type Node, type SourceFile, SyntaxKind } from 'typescript/unstable/ast';

/**
 * How long each function in a set of TypeScript sources is, read with TypeScript's own parser
 * (TypeScript 7's API: the native compiler runs as a child process and hands back its syntax
 * trees). A function is a declaration, a method, an accessor, a constructor, a function
 * expression or an arrow function; its length runs from its first token (its doc comment left
 * out) to its closing line, nested functions included: a 100-line factory that returns three
 * closures is 100 lines for whoever reads it.
 */
export interface FunctionSpan {
  /** Path of the file as given ('report/pretty.ts'). */
  file: string;
  /** Enclosing names joined by '>' ('prettyReporter>end'); '<anonymous>' where there is none. */
  name: string;
  /** 1-based line of the first token. */
  line: number;
  lines: number;
}

const FUNCTION_KINDS = new Set<SyntaxKind>([
  SyntaxKind.FunctionDeclaration,
  SyntaxKind.FunctionExpression,
  SyntaxKind.ArrowFunction,
  SyntaxKind.MethodDeclaration,
  SyntaxKind.GetAccessor,
  SyntaxKind.SetAccessor,
  SyntaxKind.Constructor,
]);

/** Nodes whose name a function inside them is known by: a class, or a variable or property holding the function. */
const NAMING_KINDS = new Set<SyntaxKind>([
  SyntaxKind.ClassDeclaration,
  SyntaxKind.ClassExpression,
  SyntaxKind.VariableDeclaration,
  SyntaxKind.PropertyAssignment,
  SyntaxKind.PropertyDeclaration,
]);

function nameOf(node: Node, file: SourceFile): string | undefined {
  if (node.kind === SyntaxKind.Constructor) return 'constructor';
  const name = (node as Node & { name?: Node }).name;
  return name === undefined ? undefined : name.getText(file);
}

function spansOf(file: SourceFile, path: string): FunctionSpan[] {
  const out: FunctionSpan[] = [];
  const lineOf = (pos: number): number => file.getLineAndCharacterOfPosition(pos).line;
  const visit = (node: Node, names: string[]): void => {
    let inner = names;
    if (NAMING_KINDS.has(node.kind)) {
      const name = nameOf(node, file);
      if (name !== undefined) inner = [...names, name];
    }
    if (FUNCTION_KINDS.has(node.kind)) {
      const own = nameOf(node, file);
      if (own !== undefined) inner = [...inner, own];
      else if (!NAMING_KINDS.has(node.parent.kind)) inner = [...inner, '<anonymous>'];
      const start = lineOf(node.getStart(file));
      out.push({ file: path, name: inner.join('>'), line: start + 1, lines: lineOf(node.getEnd()) - start + 1 });
    }
    node.forEachChild((child) => visit(child, inner));
  };
  file.forEachChild((child) => visit(child, []));
  return out;
}

/** Every function in `files` (path -> source text), parsed in a virtual project so no disk or tsconfig is read. */
export function functionSpans(files: Record<string, string>): FunctionSpan[] {
  const root = '/virtual';
  const vfs: Record<string, string> = {
    [`${root}/tsconfig.json`]: JSON.stringify({ compilerOptions: { noLib: true, types: [] }, include: ['**/*.ts'] }),
  };
  for (const [p, text] of Object.entries(files)) vfs[`${root}/${p}`] = text;
  const api = new API({ cwd: root, fs: createVirtualFileSystem(vfs) });
  try {
    const program = api.updateSnapshot({ openProject: `${root}/tsconfig.json` }).getProjects()[0]!.program;
    return Object.keys(files).flatMap((p) => {
      const file = program.getSourceFile(`${root}/${p}`);
      if (file === undefined) throw new Error(`TypeScript did not load ${p}`);
      return spansOf(file, p);
    });
  } finally {
    api.close();
  }
}
