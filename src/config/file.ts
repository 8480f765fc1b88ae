import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import { UsageError, errnoOf } from '../core/errors.js';
import { closest } from '../core/similar.js';
import { JsonTextError, lineAt, parseJsonText } from './json-text.js';
import type { AllowEntry, Preset } from './policy.js';
import { compilePolicy, requirementOf } from './policy.js';
import type { Level } from '../rules/registry.js';

/** Where linkcheck looks for a config when --config is not given: root's, never the scanned tree's. */
export const DEFAULT_CONFIG = '/etc/linkcheck/config.json';

/** A config file's keys; schema/config.schema.json is the contract and validates it. */
export interface ConfigFile {
  $schema?: string;
  root?: string;
  roots?: string[];
  paths?: string[];
  exclude?: string[];
  rules?: Record<string, Level>;
  allow?: AllowEntry[];
  failOn?: 'error' | 'warning' | 'info' | 'never';
  fixScope?: 'root' | 'tree';
  require?: string[];
  preset?: Preset;
  asUser?: string;
}

export interface LoadedConfig {
  file: string;
  config: ConfigFile;
}

let validator: ValidateFunction<ConfigFile> | undefined;

/** The shipped schema: three levels up from dist/src/config, two from src/config (tests run the sources). */
export function configSchema(): object {
  const require = createRequire(import.meta.url);
  for (const p of ['../../../schema/config.schema.json', '../../schema/config.schema.json']) {
    try {
      return require(p) as object;
    } catch {
      // the other layout
    }
  }
  throw new Error('schema/config.schema.json is missing from the installation');
}

function validate(): ValidateFunction<ConfigFile> {
  // Loaded here, when a config file is read, not at start-up: importing ajv is a large share of
  // start-up (docs/performance.md, "Figures behind the code"), and most runs read no config.
  if (validator) return validator;
  const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
  return (validator = new Ajv({ allErrors: false, strict: true }).compile<ConfigFile>(configSchema()));
}

/** '/allow/1/reason' -> 'allow[1].reason'. */
function keyOf(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(k) ? `[${k}]` : (out === '' ? '' : '.') + k;
  }
  return out;
}

/** One schema error in a sysadmin's words, and the pointer it is about. */
function explain(e: ErrorObject): { pointer: string; message: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      // The keys the object may have, from the schema: the top level's, or an allow entry's.
      const schema = configSchema() as { properties: Record<string, { items?: { properties?: object } }> };
      const keys = e.instancePath === '' ? Object.keys(schema.properties).filter((k) => k !== '$schema') : /^\/allow\/\d+$/.test(e.instancePath) ? Object.keys(schema.properties.allow?.items?.properties ?? {}) : [];
      const near = closest(key, keys);
      const hint = near !== null ? `: did you mean ${near}?` : e.instancePath === '' ? `: keys are ${keys.join(', ')}` : '';
      return { pointer: `${e.instancePath}/${key}`, message: `unknown key${hint}` };
    }
    case 'required':
      return { pointer: e.instancePath, message: `missing "${String(p.missingProperty)}"` };
    case 'enum':
      return { pointer: e.instancePath, message: `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'type':
      return { pointer: e.instancePath, message: `must be ${p.type === 'array' ? 'a list' : p.type === 'object' ? 'an object' : `a ${String(p.type)}`}` };
    case 'pattern':
      if (p.pattern === '^/') return { pointer: e.instancePath, message: 'must be an absolute path (a config is read from any working directory)' };
      return { pointer: e.instancePath, message: 'must not be empty' };
    case 'minLength':
    case 'minItems':
      return { pointer: e.instancePath, message: 'must not be empty' };
    default:
      return { pointer: e.instancePath, message: e.message ?? 'is not valid' };
  }
}

/**
 * Reads and checks a config file. Any problem is one UsageError naming the file, the line and the
 * key; nothing is half-applied.
 */
export function loadConfig(file: string, read: (f: string) => string = (f) => readFileSync(f, 'utf8')): LoadedConfig {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    const code = errnoOf(err);
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read: permission denied' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
    throw new UsageError(`config ${file} ${why}`);
  }
  trustworthy(file);
  let parsed;
  try {
    parsed = parseJsonText(text);
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    throw new UsageError(`config ${file} line ${lineAt(text, err.offset)}: not valid JSON: ${err.message}`);
  }
  const at = (pointer: string, message: string): UsageError => {
    const key = keyOf(pointer);
    return new UsageError(`config ${file} line ${lineAt(text, parsed.offsets.get(pointer) ?? 0)}: ${key === '' ? '' : key + ': '}${message}`);
  };
  const check = validate();
  if (!check(parsed.value)) {
    const { pointer, message } = explain(check.errors![0]!);
    throw at(pointer, message);
  }
  const config = parsed.value;
  if (config.root !== undefined && config.roots !== undefined) throw at('/roots', 'give root or roots, not both');
  // What the schema cannot say: rule names, and the form of require entries.
  for (const key of Object.keys(config.rules ?? {})) guard(at, `/rules/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, () => compilePolicy({ rules: { [key]: config.rules![key]! } }));
  (config.allow ?? []).forEach((a, i) => {
    try {
      compilePolicy({ allow: [a] });
    } catch (err) {
      // The policy names the field it objects to: allow[0].path, allow[0].rules.
      const m = err instanceof UsageError ? /^allow\[\d+\]\.(\w+): (.*)$/.exec(err.message) : null;
      if (!m) throw err;
      throw at(`/allow/${i}/${m[1]}`, m[2]!);
    }
  });
  (config.require ?? []).forEach((r, i) => guard(at, `/require/${i}`, () => requirementOf(r)));
  return { file, config };
}

/**
 * Run as root, linkcheck reads only a config that root alone can change: one that another user
 * owns or anyone may write would let that user silence the check or widen what --fix touches.
 */
function trustworthy(file: string, uid: number | undefined = process.geteuid?.()): void {
  if (uid !== 0) return;
  let st;
  try {
    st = statSync(file);
  } catch {
    return; // it was just read; a race here changes nothing about what was read
  }
  if (st.uid !== 0) throw new UsageError(`config ${file} is owned by uid ${st.uid}, not root: as root, linkcheck reads only a config root alone can change (chown root)`);
  if ((st.mode & 0o002) !== 0 || ((st.mode & 0o020) !== 0 && st.gid !== 0))
    throw new UsageError(`config ${file} is writable by ${st.mode & 0o002 ? 'everyone' : `group ${st.gid}`} (mode ${(st.mode & 0o777).toString(8)}): as root, linkcheck reads only a config root alone can change (chmod go-w)`);
}

/** Runs a check, turning its UsageError into one that names the config's line and key. */
function guard(at: (pointer: string, message: string) => UsageError, pointer: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // The policy names its own key first ("rules.x: ..."); the config error names it with the line.
    throw at(pointer, err.message.replace(/^(?:rules\.[^:]*|--require "[^"]*"): /, ''));
  }
}

/** The default config when it exists; a file that exists but cannot be read is an error, never skipped. */
export function loadDefaultConfig(file: string, read?: (f: string) => string): LoadedConfig | null {
  try {
    return loadConfig(file, read);
  } catch (err) {
    if (err instanceof UsageError && err.message === `config ${file} does not exist`) return null;
    throw err;
  }
}
