import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Just enough of a Bicep reader for the infra tests: declarations, object literals and resource
 * bodies of the templates in infra/, which follow one formatting (`az bicep format` style).
 * The compiler itself checks types and properties (`npm run infra:check`); tests/infra/compiled-templates.test.ts
 * reads its ARM output. This reader checks what only the source shows: comments, module references, parameter files.
 */

export const INFRA = 'infra';

export function readInfra(path: string): string {
  return readFileSync(join(INFRA, path), 'utf8');
}

/** Every .bicep file under infra/, relative paths. */
export function bicepFiles(): string[] {
  return (readdirSync(INFRA, { recursive: true }) as string[]).filter((f) => f.endsWith('.bicep')).sort();
}

/** The end (exclusive) of the bracketed block opening at `open`, skipping strings and comments. */
export function blockEnd(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === "'") {
      for (i++; i < source.length && source[i] !== "'"; i++) if (source[i] === '\\') i++;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '{' || c === '[' || c === '(') {
      depth++;
    } else if (c === '}' || c === ']' || c === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error(`unbalanced block at ${open}`);
}

export interface Entry {
  readonly key: string;
  /** The value's text up to the next key (trimmed). */
  readonly value: string;
}

/** The top-level keys of the object literal assigned by `var <name> = {`. */
export function objectEntries(source: string, varName: string): Entry[] {
  const match = new RegExp(`^var ${varName} = \\{`, 'm').exec(source);
  if (!match) throw new Error(`no "var ${varName} = {" found`);
  const open = match.index + match[0].length - 1;
  const body = source.slice(open + 1, blockEnd(source, open) - 1);
  const entries: Entry[] = [];
  let depth = 0;
  let current: { key: string; value: string } | undefined;
  for (const line of body.split('\n')) {
    const key = depth === 0 ? /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s?(.*)$/.exec(line) : null;
    if (key) {
      current = { key: key[1]!, value: key[2]! };
      entries.push(current);
    } else if (current) {
      current.value += `\n${line}`;
    }
    for (const c of line.replace(/'(?:[^'\\]|\\.)*'/g, "''").replace(/\/\/.*$/, '')) {
      if ('{[('.includes(c)) depth++;
      if ('}])'.includes(c)) depth--;
    }
  }
  return entries.map((e) => ({ key: e.key, value: e.value.trim() }));
}

export interface Param {
  readonly name: string;
  readonly hasDefault: boolean;
}

export function templateParams(source: string): Param[] {
  return [...source.matchAll(/^param (\w+) \S+( = .*)?$/gm)].map((m) => ({ name: m[1]!, hasDefault: m[2] !== undefined }));
}

/** `param x = value` lines of a .bicepparam file. */
export function paramFileValues(source: string): Map<string, string> {
  return new Map([...source.matchAll(/^param (\w+) = (.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
}

export interface ResourceDecl {
  readonly file: string;
  readonly symbol: string;
  /** Full type, nested declarations qualified by their parent's type, without API version. */
  readonly type: string;
  readonly apiVersion?: string;
  readonly existing: boolean;
  readonly body: string;
}

export function resources(file: string, source: string): ResourceDecl[] {
  const found: (ResourceDecl & { start: number; end: number })[] = [];
  for (const m of source.matchAll(/^\s*resource (\w+) '([^'@]+)(?:@([^']+))?' (existing )?= /gm)) {
    const open = source.indexOf('{', m.index + m[0].length);
    const end = blockEnd(source, open);
    let type = m[2]!;
    if (!type.includes('/')) {
      const parent = found.filter((r) => r.start < m.index && r.end > m.index).pop();
      if (!parent) throw new Error(`${file}: nested resource ${m[1]} has no parent`);
      type = `${parent.type}/${type}`;
    }
    found.push({
      file,
      symbol: m[1]!,
      type,
      apiVersion: m[3],
      existing: Boolean(m[4]),
      body: source.slice(open, end),
      start: m.index,
      end,
    });
  }
  return found.map(({ start: _s, end: _e, ...decl }) => decl);
}

/** `module x '<reference>'`: local files and registry modules. */
export function moduleReferences(source: string): string[] {
  return [...source.matchAll(/^module \w+ '([^']+)' = /gm)].map((m) => m[1]!);
}
