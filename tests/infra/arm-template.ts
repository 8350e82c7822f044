import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * Just enough of Azure Resource Manager for the infra tests: reads the ARM JSON the Bicep
 * compiler writes and evaluates its template expressions for one set of parameter values,
 * through every nested deployment (each Bicep module is a `Microsoft.Resources/deployments`
 * with its own template), so a test sees each resource with the property values Azure would
 * receive. What only Azure knows at deployment time — `reference()` of a resource,
 * `uniqueString()`, `environment()` — stays opaque: an `Opaque` value naming the expression,
 * equal for equal expressions, so ids still compare. A module's outputs are evaluated, so a
 * value passed from one module to another (the workspace id) is followed to where it is made.
 */

const run = promisify(execFile);

/** The pinned compiler (tools/bicep/bicep.sh restores it on first use). */
export async function bicepPath(): Promise<string> {
  const { stdout } = await run('bash', ['tools/bicep/bicep.sh'], { maxBuffer: 1 << 20 });
  return stdout.trim();
}

export async function bicep(args: string[], env: Record<string, string> = {}): Promise<void> {
  await run(await bicepPath(), args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
}

/** A value Azure computes at deployment time; `text` is the expression that makes it. */
export class Opaque {
  constructor(readonly text: string) {}
  toString(): string {
    return `⟨${this.text}⟩`;
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
// Values are JSON, possibly holding Opaque parts, or a lambda while map()/filter() run.
export type Value = any;

interface Template {
  languageVersion?: string;
  parameters?: Record<string, { defaultValue?: Json }>;
  variables?: Record<string, Json>;
  functions?: { namespace: string; members: Record<string, { parameters?: { name: string }[]; output: { value: Json } }> }[];
  resources: Json[] | Record<string, Json>;
  outputs?: Record<string, { value: Json }>;
}

type Ast =
  | { kind: 'literal'; value: Value }
  | { kind: 'call'; namespace?: string; name: string; args: Ast[] }
  | { kind: 'property'; target: Ast; name: string }
  | { kind: 'index'; target: Ast; index: Ast };

function parse(source: string): Ast {
  let i = 0;
  const space = () => {
    while (source[i] === ' ') i++;
  };
  const identifier = () => {
    const match = /^[A-Za-z_$][\w$#]*/.exec(source.slice(i));
    if (!match) throw new Error(`expected a name at ${i} in ${source}`);
    i += match[0].length;
    return match[0];
  };
  const expect = (c: string) => {
    space();
    if (source[i] !== c) throw new Error(`expected ${c} at ${i} in ${source}`);
    i++;
  };
  function primary(): Ast {
    space();
    if (source[i] === "'") {
      let text = '';
      for (i++; ; i++) {
        if (i >= source.length) throw new Error(`unterminated string in ${source}`);
        if (source[i] === "'") {
          if (source[i + 1] === "'") {
            text += "'";
            i++;
          } else break;
        } else text += source[i];
      }
      i++;
      return { kind: 'literal', value: text };
    }
    const number = /^-?\d+/.exec(source.slice(i));
    if (number) {
      i += number[0].length;
      return { kind: 'literal', value: Number(number[0]) };
    }
    let name = identifier();
    let namespace: string | undefined;
    if (source[i] === '.') {
      namespace = name;
      i++;
      name = identifier();
    }
    expect('(');
    const args: Ast[] = [];
    space();
    if (source[i] === ')') i++;
    else
      for (;;) {
        args.push(expression());
        space();
        if (source[i] === ',') i++;
        else {
          expect(')');
          break;
        }
      }
    return { kind: 'call', namespace, name, args };
  }
  function expression(): Ast {
    let node = primary();
    for (;;) {
      space();
      if (source[i] === '.') {
        i++;
        node = { kind: 'property', target: node, name: identifier() };
      } else if (source[i] === '[') {
        i++;
        const index = expression();
        expect(']');
        node = { kind: 'index', target: node, index };
      } else return node;
    }
  }
  const ast = expression();
  space();
  if (i !== source.length) throw new Error(`unexpected ${source.slice(i)} in ${source}`);
  return ast;
}

const isOpaque = (v: Value): v is Opaque => v instanceof Opaque;
const isObject = (v: Value): v is Record<string, Value> => typeof v === 'object' && v !== null && !Array.isArray(v) && !isOpaque(v);
/** A stable text for any value, for opaque expressions built from it and for ids. */
export function show(v: Value): string {
  if (isOpaque(v)) return v.toString();
  if (typeof v === 'string') return v;
  return JSON.stringify(v, (_k, x) => (isOpaque(x) ? x.toString() : x));
}
/** Opaque, or holding an opaque part (a string formatted from one names it between ⟨ ⟩). */
const hasOpaque = (v: Value): boolean =>
  isOpaque(v) ||
  (typeof v === 'string' && v.includes('⟨')) ||
  (Array.isArray(v) ? v.some(hasOpaque) : isObject(v) ? Object.values(v).some(hasOpaque) : false);

interface Lambda {
  lambda: string[];
  body: Ast;
  scope: Scope;
}

/** What the scopes of one deployment share: its variables and its modules' scopes. */
interface Deployment {
  readonly variables: Map<string, Value>;
  readonly modules: Map<string, Scope>;
}

/** One template evaluated with one set of parameter values (a deployment), inside a loop or lambda or not. */
export class Scope {
  constructor(
    readonly template: Template,
    readonly parameters: Record<string, Value>,
    readonly copyIndex: Record<string, number> = {},
    readonly lambdaVariables: Record<string, Value> = {},
    readonly deployment: Deployment = { variables: new Map(), modules: new Map() },
  ) {}

  with(copyIndex: Record<string, number>, lambdaVariables: Record<string, Value> = this.lambdaVariables): Scope {
    return new Scope(this.template, this.parameters, copyIndex, lambdaVariables, this.deployment);
  }

  variable(name: string): Value {
    const cache = this.deployment.variables;
    if (!cache.has(name)) {
      const raw = this.template.variables?.[name];
      if (raw === undefined) throw new Error(`no variable ${name}`);
      cache.set(name, this.with({}, {}).evaluate(raw));
    }
    return cache.get(name);
  }

  /** Deep evaluation of a template value: "[...]" strings are expressions, "[[" a literal "[". */
  evaluate(value: Json): Value {
    if (typeof value === 'string') {
      if (value.startsWith('[[')) return value.slice(1);
      if (value.startsWith('[') && value.endsWith(']')) return this.expression(parse(value.slice(1, -1)));
      return value;
    }
    if (Array.isArray(value)) return value.map((v) => this.evaluate(v));
    if (isObject(value)) {
      const out: Record<string, Value> = {};
      for (const [k, v] of Object.entries(value)) out[show(this.evaluate(k))] = this.evaluate(v as Json);
      return out;
    }
    return value;
  }

  /** The scope of a module (a nested deployment) declared in this template under `key`. */
  module(key: string, resource: Record<string, Value>, copyIndex: Record<string, number> = {}): Scope {
    const cacheKey = `${key}#${JSON.stringify(copyIndex)}`;
    let child = this.deployment.modules.get(cacheKey);
    if (!child) {
      const at = this.with(copyIndex);
      // Each parameter is { value } (or { reference } to a Key Vault secret), or an expression making one.
      const given = at.evaluate(resource.properties.parameters ?? {}) as Record<string, Value>;
      const values: Record<string, Value> = {};
      for (const [name, p] of Object.entries(given))
        values[name] = isObject(p) && 'value' in p ? p.value : new Opaque(`parameter ${name}: ${show(p)}`);
      child = moduleScope(resource.properties.template as Template, values);
      this.deployment.modules.set(cacheKey, child);
    }
    return child;
  }

  expression(ast: Ast): Value {
    switch (ast.kind) {
      case 'literal':
        return ast.value;
      case 'property': {
        const target = this.expression(ast.target);
        if (isOpaque(target)) return new Opaque(`${target.text}.${ast.name}`);
        if (!isObject(target) || !(ast.name in target)) throw new Error(`no property ${ast.name} in ${show(target)}`);
        return target[ast.name];
      }
      case 'index': {
        const target = this.expression(ast.target);
        const index = this.expression(ast.index);
        if (isOpaque(target) || isOpaque(index)) return new Opaque(`${show(target)}[${show(index)}]`);
        const v = (target as Record<string, Value>)[index as string];
        if (v === undefined) throw new Error(`no [${show(index)}] in ${show(target)}`);
        return v;
      }
      case 'call':
        return this.call(ast);
    }
  }

  call(ast: Extract<Ast, { kind: 'call' }>): Value {
    if (ast.namespace) {
      const fn = this.template.functions?.find((ns) => ns.namespace === ast.namespace)?.members[ast.name];
      if (!fn) throw new Error(`no function ${ast.namespace}.${ast.name}`);
      const args = ast.args.map((a) => this.expression(a));
      const parameters = Object.fromEntries((fn.parameters ?? []).map((p, i) => [p.name, args[i]]));
      return new Scope(this.template, parameters).evaluate(fn.output.value);
    }
    const name = ast.name.toLowerCase();
    // Lazy: only the branch taken is evaluated, as in ARM.
    if (name === 'if') {
      const condition = this.expression(ast.args[0]!);
      if (isOpaque(condition)) return new Opaque(`if(${condition.text})`);
      return this.expression(ast.args[condition ? 1 : 2]!);
    }
    if (name === 'lambda') {
      const names = ast.args.slice(0, -1).map((a) => this.expression(a) as string);
      return { lambda: names, body: ast.args.at(-1)!, scope: this } satisfies Lambda;
    }
    const args = ast.args.map((a) => this.expression(a));
    const opaque = () => new Opaque(`${ast.name}(${args.map(show).join(', ')})`);
    const invoke = (fn: Lambda, ...values: Value[]) =>
      fn.scope
        .with(fn.scope.copyIndex, { ...fn.scope.lambdaVariables, ...Object.fromEntries(fn.lambda.map((n, i) => [n, values[i]])) })
        .expression(fn.body);
    switch (name) {
      case 'parameters':
        if (!(args[0] in this.parameters)) throw new Error(`no parameter ${args[0]}`);
        return this.parameters[args[0]];
      case 'variables':
        return this.variable(args[0]);
      case 'lambdavariables':
        return this.lambdaVariables[args[0]];
      case 'copyindex': {
        const loop = typeof args[0] === 'string' ? args[0] : '';
        const offset = typeof args[0] === 'number' ? args[0] : typeof args[1] === 'number' ? args[1] : 0;
        const index = this.copyIndex[loop];
        if (index === undefined) throw new Error(`copyIndex(${loop}) outside its loop`);
        return index + offset;
      }
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
        return null;
      case 'string':
        return hasOpaque(args[0]) ? opaque() : typeof args[0] === 'string' ? args[0] : JSON.stringify(args[0]);
      case 'bool':
      case 'int':
      case 'json':
        if (hasOpaque(args[0])) return opaque();
        return name === 'bool' ? Boolean(args[0]) : name === 'int' ? Number(args[0]) : JSON.parse(args[0]);
      case 'createobject': {
        const out: Record<string, Value> = {};
        for (let i = 0; i < args.length; i += 2) out[show(args[i])] = args[i + 1];
        return out;
      }
      case 'createarray':
        return args;
      case 'range':
        return Array.from({ length: args[1] }, (_v, i) => args[0] + i);
      case 'map':
        return isOpaque(args[0]) ? opaque() : (args[0] as Value[]).map((v, i) => invoke(args[1], v, i));
      case 'filter':
        return isOpaque(args[0]) ? opaque() : (args[0] as Value[]).filter((v, i) => invoke(args[1], v, i) === true);
      case 'toobject':
        return Object.fromEntries((args[0] as Value[]).map((v) => [show(invoke(args[1], v)), args[2] ? invoke(args[2], v) : v]));
    }
    // Everything else is plain once its arguments are known.
    if (['resourceid', 'subscriptionresourceid', 'extensionresourceid', 'tenantresourceid'].includes(name)) {
      const type = args.findIndex((a) => typeof a === 'string' && a.includes('/'));
      return `${name}(${args.slice(type).map(show).join('/')})`;
    }
    // A value Azure computes is an id, a key, an endpoint: never empty.
    if (name === 'empty' && isOpaque(args[0])) return false;
    if (args.some(hasOpaque)) {
      // Kept as text with the unknown part named, so equal expressions give equal names and ids.
      if (name === 'format') return (args[0] as string).replace(/\{(\d+)(?::[^}]*)?\}/g, (_m, n: string) => show(args[Number(n) + 1]));
      if (name === 'concat' && !Array.isArray(args[0])) return args.map(show).join('');
      if (name === 'union' && args.every((a) => isObject(a))) return union(args);
      return opaque();
    }
    switch (name) {
      case 'not':
        return !args[0];
      case 'and':
        return args.every(Boolean);
      case 'or':
        return args.some(Boolean);
      case 'equals':
        return JSON.stringify(args[0]) === JSON.stringify(args[1]);
      case 'empty':
        return (
          args[0] === null ||
          args[0] === '' ||
          (Array.isArray(args[0]) ? args[0].length === 0 : isObject(args[0]) && Object.keys(args[0]).length === 0)
        );
      case 'contains':
        return isObject(args[0]) ? args[1] in args[0] : (args[0] as string | Value[]).includes(args[1]);
      case 'length':
        return isObject(args[0]) ? Object.keys(args[0]).length : (args[0] as string | Value[]).length;
      case 'union':
        return Array.isArray(args[0]) ? [...new Set(args.flat())] : union(args);
      case 'concat':
        return Array.isArray(args[0]) ? args.flat() : args.join('');
      case 'format':
        return (args[0] as string).replace(/\{(\d+)(?::[^}]*)?\}/g, (_m, n: string) => String(args[Number(n) + 1]));
      case 'padleft':
        return String(args[0]).padStart(args[1] as number, (args[2] as string | undefined) ?? ' ');
      case 'tolower':
        return (args[0] as string).toLowerCase();
      case 'toupper':
        return (args[0] as string).toUpperCase();
      case 'replace':
        return (args[0] as string).split(args[1]).join(args[2]);
      case 'take':
        return args[0].slice(0, args[1]);
      case 'skip':
        return args[0].slice(args[1]);
      case 'split':
        return (args[0] as string).split(args[1]);
      case 'join':
        return (args[0] as Value[]).join(args[1]);
      case 'first':
        return args[0][0];
      case 'last':
        return args[0].at(-1);
      case 'coalesce':
        return args.find((a) => a !== null);
      case 'add':
        return args[0] + args[1];
      case 'sub':
        return args[0] - args[1];
      case 'mul':
        return args[0] * args[1];
      case 'div':
        return Math.trunc(args[0] / args[1]);
      case 'mod':
        return args[0] % args[1];
      case 'greater':
        return args[0] > args[1];
      case 'less':
        return args[0] < args[1];
      case 'greaterorequals':
        return args[0] >= args[1];
      case 'lessorequals':
        return args[0] <= args[1];
      case 'startswith':
        return (args[0] as string).toLowerCase().startsWith((args[1] as string).toLowerCase());
      case 'endswith':
        return (args[0] as string).toLowerCase().endsWith((args[1] as string).toLowerCase());
    }
    // reference(), uniqueString(), environment(), resourceGroup(), deployer(), guid(), listKeys()…
    // A reference to a module in this template is its evaluated outputs.
    if (name === 'reference' && typeof args[0] === 'string') {
      const resource = resourcesOf(this.template)[args[0]];
      if (resource?.type === 'Microsoft.Resources/deployments' && !resource.copy) {
        const child = this.module(args[0], resource);
        const outputs = child.template.outputs ?? {};
        return {
          outputs: Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, { value: child.evaluate(o.value) }])),
        };
      }
    }
    return opaque();
  }
}

function union(objects: Record<string, Value>[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const o of objects) for (const [k, v] of Object.entries(o)) out[k] = isObject(out[k]) && isObject(v) ? union([out[k], v]) : v;
  return out;
}

function resourcesOf(template: Template): Record<string, Record<string, Value>> {
  return Array.isArray(template.resources)
    ? Object.fromEntries(template.resources.map((r, i) => [String(i), r as Record<string, Value>]))
    : (template.resources as Record<string, Record<string, Value>>);
}

function moduleScope(template: Template, given: Record<string, Value>): Scope {
  const parameters: Record<string, Value> = { ...given };
  const scope = new Scope(template, parameters);
  for (const [name, declaration] of Object.entries(template.parameters ?? {}))
    if (!(name in parameters) && 'defaultValue' in declaration) parameters[name] = scope.evaluate(declaration.defaultValue as Json);
  for (const name of Object.keys(template.parameters ?? {})) if (!(name in parameters)) throw new Error(`parameter ${name} has no value`);
  return scope;
}

/** A resource as Azure would receive it: name, scope, sku, kind and properties evaluated. */
export interface DeployedResource {
  readonly type: string;
  /** `type/name`, as `resourceId()` of it evaluates here: what a diagnostic setting's scope names. */
  readonly id: string;
  readonly name: Value;
  readonly scope?: Value;
  readonly sku?: Value;
  readonly kind?: Value;
  readonly properties: Value;
  /** The modules it sits in, outermost first. */
  readonly modules: readonly string[];
}

/** Every resource the template deploys, through its nested deployments, for these parameter values. */
export function deployedResources(template: Template, parameterValues: Record<string, Value>): DeployedResource[] {
  const out: DeployedResource[] = [];
  const walk = (scope: Scope, modules: string[]) => {
    for (const [key, resource] of Object.entries(resourcesOf(scope.template))) {
      if (resource.existing) continue;
      const iterations: Record<string, number>[] = [];
      if (resource.copy) {
        const count = scope.evaluate(resource.copy.count) as number;
        for (let i = 0; i < count; i++) iterations.push({ '': i, [resource.copy.name]: i });
      } else iterations.push({});
      for (const copyIndex of iterations) {
        const at = scope.with(copyIndex);
        if ('condition' in resource && at.evaluate(resource.condition) === false) continue;
        if (resource.type === 'Microsoft.Resources/deployments') {
          const name = show(at.evaluate(resource.name));
          walk(scope.module(key, resource, copyIndex), [...modules, name]);
          continue;
        }
        const name = at.evaluate(resource.name);
        out.push({
          type: resource.type,
          id: `resourceid(${resource.type}/${show(name)})`,
          name,
          scope: resource.scope === undefined ? undefined : at.evaluate(resource.scope),
          sku: resource.sku === undefined ? undefined : at.evaluate(resource.sku),
          kind: resource.kind === undefined ? undefined : at.evaluate(resource.kind),
          properties: resource.properties === undefined ? {} : at.evaluate(resource.properties),
          modules,
        });
      }
    }
  };
  walk(moduleScope(template, parameterValues), []);
  return out;
}

/** The parameter values of a compiled .bicepparam file (`bicep build-params`). */
export function parameterValues(parametersJson: { parameters: Record<string, { value: Value }> }): Record<string, Value> {
  return Object.fromEntries(Object.entries(parametersJson.parameters).map(([k, v]) => [k, v.value]));
}
