import type { HttpRequest } from '@azure/functions';
import { Type } from '@sinclair/typebox';
import { HttpProblem } from './problem.js';
import type { AnyRoute, RouteInput, RouteSchemas } from './route.js';
import { validateInput } from './validation.js';

/**
 * A request as the route's schemas describe it: route parameters, query, and a JSON or form
 * body, each validated (400 naming the field) before any handler runs. Bodies are capped by
 * their declared length and again by the bytes actually read.
 */

const NO_QUERY = Type.Object({}, { additionalProperties: false });
const NO_PARAMS = Type.Object({});

function queryObject(query: URLSearchParams): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    result[key] = values.length === 1 ? values[0]! : values;
  }
  return result;
}

function mediaTypeIs(contentType: string | null, expected: readonly string[]): boolean {
  if (!contentType) return false;
  const [mediaType, ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  if (!expected.includes(mediaType!)) return false;
  // RFC 8259 §8.1: JSON is UTF-8; forms are read as UTF-8 too. A charset, if any, must say so.
  return parameters.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

/** JSON.parse messages quote the input in newer V8s; keep only the position so no secret is echoed. */
function describeJsonError(error: unknown): string {
  const position = /position (\d+)/.exec(String((error as Error)?.message ?? ''));
  return position ? `the body is not valid JSON (error at position ${position[1]})` : 'the body is not valid JSON';
}

function checkDeclaredLength(request: HttpRequest, limit: number): void {
  if (Number(request.headers.get('content-length') ?? '0') > limit) {
    throw new HttpProblem('payload-too-large', `the body may be at most ${limit} bytes`);
  }
}

async function readText(request: HttpRequest, mediaTypes: readonly string[], limit: number): Promise<string> {
  checkDeclaredLength(request, limit);
  if (!mediaTypeIs(request.headers.get('content-type'), mediaTypes)) {
    throw new HttpProblem('unsupported-media-type', `send the body as ${mediaTypes.join(' or ')}`, {}, { Accept: mediaTypes.join(', ') });
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > limit) throw new HttpProblem('payload-too-large', `the body may be at most ${limit} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpProblem('malformed-json', 'the body is not valid UTF-8');
  }
}

const JSON_ONLY = ['application/json'];

async function readJsonBody(request: HttpRequest, schemas: RouteSchemas, limit: number) {
  const text = await readText(request, schemas.jsonMediaTypes ?? JSON_ONLY, limit);
  if (text.length === 0) throw new HttpProblem('malformed-json', 'the body is empty; send a JSON document');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpProblem('malformed-json', describeJsonError(error));
  }
  return validateInput('body', schemas.body!, value);
}

/** An optional body that was left out: fine if there really are no bytes. */
async function readNoBody(request: HttpRequest, limit: number): Promise<undefined> {
  checkDeclaredLength(request, limit);
  if ((await request.arrayBuffer()).byteLength > 0) {
    throw new HttpProblem('unsupported-media-type', 'send the body as application/json', {}, { Accept: 'application/json' });
  }
  return undefined;
}

/**
 * RFC 6749 §3.1: a parameter sent without a value counts as omitted, and none may be repeated.
 * A repeat is a 400 like any invalid input; each route's error format says it in its own terms
 * (`invalid_request` on /oauth, a page on /device).
 */
async function readFormBody(request: HttpRequest, schema: NonNullable<RouteSchemas['form']>, limit: number) {
  const text = await readText(request, ['application/x-www-form-urlencoded'], limit);
  const form: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    if (value === '') continue;
    if (Object.hasOwn(form, name)) throw new HttpProblem('validation-failed', `parameter ${name} is repeated`);
    form[name] = value;
  }
  return validateInput('form', schema, form);
}

export async function readInput(route: AnyRoute, request: HttpRequest, path: string, bodyLimit: number): Promise<RouteInput<RouteSchemas>> {
  const schemas: RouteSchemas = route.request ?? {};
  const params = validateInput<Record<string, never>>('params', schemas.params ?? NO_PARAMS, { ...request.params });
  const query = validateInput<Record<string, never>>('query', schemas.query ?? NO_QUERY, queryObject(request.query));
  let body: unknown;
  let form: unknown;
  if (schemas.body && schemas.bodyOptional && !request.headers.get('content-type')) body = await readNoBody(request, bodyLimit);
  else if (schemas.body) body = await readJsonBody(request, schemas, bodyLimit);
  else if (schemas.form) form = await readFormBody(request, schemas.form, bodyLimit);
  else checkDeclaredLength(request, bodyLimit);
  return {
    params,
    query,
    body: body as undefined,
    form: form as undefined,
    headers: request.headers,
    method: request.method,
    path,
  };
}
