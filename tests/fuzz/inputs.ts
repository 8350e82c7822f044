import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import type { AnyRoute } from '../../shared/http/route.js';
import { servedMethods } from '../../shared/http/route-table.js';
import { OPERATOR_KEY } from '../helpers/roger.js';
import { describeRequest, type RawRequest } from './raw-http.js';
import { admin, member, type World } from './world.js';

/**
 * Generators of hostile requests for one route of the table: the method, the path (its
 * parameters), the query, the headers (credentials, content types, cookies) and the body,
 * each mostly malformed but sometimes well-formed, so that the code behind validation is
 * reached too (a valid token with a malformed body, a valid body with a wrong token, ...).
 */

/** Exactly the body limit the host is configured with (HTTP_BODY_LIMIT_BYTES, default). */
export const BODY_LIMIT = 65_536;
/** What the local host reads at most before any handler (tools/local-host.ts). */
const HOST_LIMIT = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Strings

/** Unicode and encoding tricks, as JS strings (JSON and form values carry them as they are). */
const UNICODE_TRICKS = [
  '\uD800', // lone high surrogate
  '\uDFFF', // lone low surrogate
  'a\uDC00b',
  '\u0000', // NUL
  'nul\u0000in',
  '\u202Egnp.exe', // RTL override
  '\u200F\u200E\u2066\u2069',
  '\uFEFF', // BOM
  '\u200B\u200C\u200D', // zero width
  'e\u0301', // combining: NFD é
  '\u00E9', // NFC é
  '\uFB01', // ﬁ ligature (NFKC → fi)
  '\uFF41\uFF44\uFF4D\uFF49\uFF4E', // fullwidth "admin"
  'ANN', // case variant of a real username
  'ann ', // trailing space
  '\u0130', // İ
  '\u212A', // Kelvin sign (NFKC → K)
  '\u2028\u2029',
  '\r\n\t\v\f',
  '\u{1F44D}\u{1F3FD}',
  '\u{10FFFF}',
  '%00',
  '%',
  '..',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '"; DROP TABLE c; --',
  "' OR 1=1 --",
  'SELECT * FROM c',
  '${7*7}{{7*7}}',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e400',
  '0x10',
  ' 5',
  '',
  ' ',
];

const trickString = fc.constantFrom(...UNICODE_TRICKS);

/** One character Node lets into a header value: tab, visible ASCII, space, or a latin-1 byte. */
const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x09))
  .map((c) => String.fromCharCode(c));
const headerText = (maxLength: number) => fc.string({ unit: headerChar, maxLength });

/** Any string: tricks, any code units (lone surrogates included), graphemes, long runs. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: trickString },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.tuple(trickString, fc.string({ maxLength: 10 }), trickString).map((parts) => parts.join('')) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(1, 255, 256, 1025, 5000)
      .chain((n) => fc.constantFrom('a', 'é', '\u{1F600}', '\u0000').map((c) => c.repeat(n))),
  },
);

// ---------------------------------------------------------------------------------------------
// JSON, as text, with fragments JSON.stringify cannot make

/** A JSON fragment written as is (numbers like 1e400, deep nesting). */
class RawJson {
  constructor(readonly text: string) {}
}

function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const deepArrays = (depth: number) => new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`);
const deepObjects = (depth: number) => new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

const rawNumbers = fc.constantFrom(
  '1e400',
  '-1e400',
  '-0',
  '1.0',
  '1E2',
  '0.0000001',
  '123456789012345678901234567890',
  '-9007199254740993',
  '2147483648',
  '4294967297',
);

/** A value of the wrong kind for any field. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 31) },
  { weight: 1, arbitrary: rawNumbers.map((n) => new RawJson(n)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(50, 1000, 10_000).chain((d) => fc.constantFrom(deepArrays(d), deepObjects(d))) },
);

// ---------------------------------------------------------------------------------------------
// Values a schema accepts (so that handlers run), from the route table's TypeBox schemas

interface JsonSchema {
  type?: string;
  const?: unknown;
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  maxItems?: number;
  uniqueItems?: boolean;
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, 40);
  if (schema.format === 'email') return fc.emailAddress().filter((e) => e.length <= (schema.maxLength ?? 254));
  if (schema.format === 'date-time')
    return fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }).map((d) => d.toISOString());
  if (schema.format === 'uri') return fc.webUrl();
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity));
    } catch {
      // a pattern fast-check cannot generate from: fall back to plain strings
    }
  }
  return fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.max(min, max) });
}

/** A value that (mostly) satisfies `schema`; properties the schema names get plausible values. */
export function schemaValue(schema: JsonSchema, known: Record<string, fc.Arbitrary<unknown>> = {}): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => schemaValue(s, known)));
  if (schema.allOf) return fc.tuple(...schema.allOf.map((s) => schemaValue(s, known))).map((parts) => Object.assign({}, ...parts));
  switch (schema.type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, sub] of Object.entries(properties)) {
        shape[name] = Object.hasOwn(known, name) ? fc.oneof(known[name]!, schemaValue(sub, known)) : schemaValue(sub, known);
      }
      return fc.record(shape, { requiredKeys: (schema.required ?? []).filter((k) => k in shape) });
    }
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({
        min: schema.exclusiveMinimum ?? schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = schemaValue(schema.items ?? {}, known);
      const maxLength = Math.min(schema.maxItems ?? 4, 4);
      return schema.uniqueItems ? fc.uniqueArray(item, { maxLength, selector: (v) => JSON.stringify(v) }) : fc.array(item, { maxLength });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A valid-looking object with one thing wrong: a field missing, of the wrong kind, or one too many. */
function mutated(schema: JsonSchema, valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const names = Object.keys(schema.properties ?? {});
  const extraName = fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'prototype', 'tenantId', 'id', 'role', '$where'));
  return fc
    .tuple(valid, fc.nat(), hostileValue, extraName, fc.constantFrom('drop', 'wrong', 'extra'))
    .map(([value, index, wrong, extra, how]) => {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
      const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      const name = names.length > 0 ? names[index % names.length]! : extra;
      if (how === 'drop') delete copy[name];
      else if (how === 'wrong') copy[name] = wrong;
      else Object.defineProperty(copy, extra, { value: wrong, enumerable: true, configurable: true, writable: true });
      return copy;
    });
}

/** An object with the schema's field names but values of any kind. */
function wrongTypes(schema: JsonSchema): fc.Arbitrary<unknown> {
  const names = Object.keys(schema.properties ?? {});
  if (names.length === 0) return fc.dictionary(hostileString, hostileValue, { maxKeys: 3 });
  return fc.record(Object.fromEntries(names.map((n) => [n, hostileValue])), { requiredKeys: [] });
}

// ---------------------------------------------------------------------------------------------
// Credentials

export interface Credentials {
  /** Tokens that pass this route's authentication and authorization. */
  readonly valid: readonly string[];
  /** Real tokens of the wrong kind, scope or role for this route. */
  readonly wrong: readonly string[];
  /** Crafted tokens that must never verify. */
  readonly forged: readonly string[];
}

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Forgeries from a real token: alg none, HS256 keyed with public material, tampered parts. */
export function forgeTokens(real: string): string[] {
  const [header, payload, signature] = real.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid?: string }).kid;
  const hs = (h: object, p: object, key: string) => {
    const input = `${b64url(h)}.${b64url(p)}`;
    return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  };
  const flip = (s: string) => s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.slice(-1);
  return [
    `${b64url({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
    `${b64url({ alg: 'none', typ: 'at+jwt', kid })}.${b64url({ ...claims, roles: ['admin'] })}.`,
    hs({ alg: 'HS256', typ: 'at+jwt', kid }, claims, kid ?? ''),
    hs({ alg: 'HS256', typ: 'at+jwt', kid }, { ...claims, exp: 4102444800 }, ''),
    `${header}.${b64url({ ...claims, roles: ['admin'], scope: 'device jobs jobs:release scan' })}.${signature}`,
    `${header}.${b64url({ ...claims, tid: '0'.repeat(32) })}.${signature}`,
    `${header}.${payload}.${flip(signature)}`,
    `${header}.${payload}`,
    `${header}.${payload}.${signature}.${signature}`,
    `${b64url({ alg: 'ES256', typ: 'at+jwt', kid: '../../../etc/passwd', jku: 'http://127.0.0.1:1/jwks' })}.${payload}.${signature}`,
    `${b64url({ alg: 'ES256', typ: 'JWT', kid })}.${payload}.${signature}`,
    `${b64url({ alg: 'ES256', typ: 'at+jwt', kid, crit: ['exp'] })}.${payload}.${signature}`,
    `${b64url('{"alg":"ES256","alg":"none"}')}.${payload}.${signature}`,
    `${b64url('[]')}.${b64url('null')}.${signature}`,
    'a.b.c',
    '....',
    'x'.repeat(6000),
  ];
}

/** Forgeries of a SCIM token (`scim1.<tenant>.<token>.<secret>`): each part tampered, swapped or malformed. */
export function forgeScimTokens(real: string): string[] {
  const [prefix, tenantId, tokenId, secret] = real.split('.') as [string, string, string, string];
  const flip = (t: string) => t.slice(0, -2) + (t.at(-2) === 'A' ? 'B' : 'A') + t.slice(-1);
  return [
    `${prefix}.${tenantId}.${tokenId}.${flip(secret)}`,
    `${prefix}.${'0'.repeat(32)}.${tokenId}.${secret}`,
    `${prefix}.${tenantId}.${'0'.repeat(32)}.${secret}`,
    `${prefix}.${tokenId}.${tenantId}.${secret}`,
    `SCIM1.${tenantId}.${tokenId}.${secret}`,
    `scim2.${tenantId}.${tokenId}.${secret}`,
    `${prefix}.${tenantId.toUpperCase()}.${tokenId}.${secret}`,
    `${prefix}.${tenantId}.${tokenId}.${secret}.${secret}`,
    `${prefix}.${tenantId}.${tokenId}`,
    `${prefix}.${tenantId}.${tokenId}.${secret}x`,
    `${prefix}.${tenantId}.${tokenId}.`,
    `${prefix}.__proto__.constructor.${secret}`,
    `${prefix}...`,
    real.slice(0, -1),
  ];
}

function authorizationHeaders(creds: Credentials | undefined): fc.Arbitrary<[string, string][]> {
  const valid = creds && creds.valid.length > 0 ? fc.constantFrom(...creds.valid) : fc.constant('');
  const anyReal = creds ? fc.constantFrom(...creds.valid, ...creds.wrong) : fc.constant('');
  const garbage = fc.oneof(
    fc.constantFrom(...(creds?.forged ?? ['a.b.c'])),
    fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,300}=*$/),
    headerText(60),
  );
  const bearer = (t: fc.Arbitrary<string>) => t.map((token): [string, string][] => [['Authorization', `Bearer ${token}`]]);
  return fc.oneof(
    { weight: 8, arbitrary: bearer(valid) },
    { weight: 2, arbitrary: fc.constant<[string, string][]>([]) },
    { weight: 2, arbitrary: bearer(creds ? fc.constantFrom(...(creds.wrong.length ? creds.wrong : creds.valid)) : garbage) },
    { weight: 3, arbitrary: bearer(garbage) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          anyReal,
          garbage,
          fc.constantFrom('bearer ', 'BEARER ', 'Bearer  ', 'Bearer', 'Basic ', 'Token ', '', 'Bearer\t', ' Bearer '),
          fc.constantFrom('', ' ', '=', '==', ','),
        )
        .map(([token, junk, scheme, tail]): [string, string][] => [['Authorization', `${scheme}${token || junk}${tail}`]]),
    },
    // duplicate Authorization headers, valid first or second
    {
      weight: 2,
      arbitrary: fc.tuple(valid, garbage, fc.boolean()).map(([token, junk, first]): [string, string][] =>
        first
          ? [
              ['Authorization', `Bearer ${token}`],
              ['Authorization', `Bearer ${junk}`],
            ]
          : [
              ['Authorization', `Bearer ${junk}`],
              ['Authorization', `Bearer ${token}`],
            ],
      ),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Paths

const SEGMENT_TRICKS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E%2F%2E%2E',
  '..%2f..%2fetc%2fpasswd',
  '..%5c..%5c',
  '%2F',
  '%252F',
  '%00',
  '%',
  '%zz',
  '%C0%AE%C0%AE', // overlong "."
  '%C0%AF', // overlong "/"
  '%ED%A0%80', // encoded lone surrogate
  '%EF%BB%BF',
  '%E2%80%AE',
  '%FF%FE',
  '%FF', // a latin-1 byte
  '%E9',
  '%F0%9F%91%8D',
  '*',
  '~',
  ';a=b',
  '%3Fq%3D1',
  '%23frag',
  'api',
  'me',
  'a'.repeat(3000),
];

/** Percent-encodes a JS string as UTF-8 (lone surrogates become U+FFFD, as any client sends them). */
function encodeSegment(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~!$&'()*+,;=:@]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);
const userCodeLike = fc.oneof(
  fc.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-?[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
  fc.stringMatching(/^[A-Za-z -]{8,12}$/),
);

function paramSegment(route: AnyRoute, name: string, world: World): fc.Arbitrary<string> {
  const safeForRealIds = !route.methods.includes('DELETE');
  const { ids } = world;
  const plausible: fc.Arbitrary<string>[] = [hex32];
  if (safeForRealIds)
    plausible.push(fc.constantFrom(ids.adminId, ids.userId, ids.deviceId, ids.jobId, ids.profileId, ids.groupId, ids.jobId.toUpperCase()));
  if (name === 'user_code') plausible.push(userCodeLike);
  if (name === 'slug') plausible.push(fc.constantFrom('fuzz', 'FUZZ', 'nope', 'a', '-a-', 'x'.repeat(64)));
  if (route.route.startsWith('regions/')) plausible.push(fc.constantFrom('eu', 'us', 'EU', 'zz', 'e', 'abcdefghi'));
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(...plausible).map(encodeSegment) },
    { weight: 3, arbitrary: fc.constantFrom(...SEGMENT_TRICKS) },
    { weight: 3, arbitrary: hostileString.map(encodeSegment).filter((s) => s.length > 0) },
  );
}

function literalSegment(value: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(value) },
    { weight: 1, arbitrary: fc.constant(value.toUpperCase()) },
    { weight: 1, arbitrary: fc.constant(encodeSegment(value).replace(/^[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)) },
  );
}

/** The route's path as a client would write it, parameters plausible (real ids where harmless). */
function canonicalPath(route: AnyRoute, world: World): fc.Arbitrary<string> {
  const parts = route.route === '' ? [] : route.route.split('/');
  const { ids } = world;
  const segments = parts.map((part): fc.Arbitrary<string> => {
    if (part.startsWith('{*')) return fc.constantFrom('', 'nothing/here', 'api/nope', 'oauth', 'device/x', 'api/jobs/x/y/z');
    if (!part.startsWith('{')) return fc.constant(part);
    const name = part.slice(1, -1);
    if (name === 'user_code') return userCodeLike.map(encodeSegment);
    if (name === 'slug') return fc.constantFrom('fuzz', 'nope');
    if (route.route.startsWith('regions/')) return fc.constantFrom('eu', 'us', 'zz');
    if (route.route.startsWith('scim/v2/ResourceTypes/')) return fc.constantFrom('User', 'Group', 'user', 'Printer');
    if (route.route.startsWith('scim/v2/Schemas/'))
      return fc.constantFrom(SCIM_USER, SCIM_GROUP, SCIM_ENTERPRISE, SCIM_USER.toUpperCase(), 'urn:x');
    // DELETE routes get ids of nothing (erasing the fuzzer's own data would end the fuzzing).
    if (route.methods.includes('DELETE')) return hex32;
    return fc.oneof(fc.constantFrom(ids.adminId, ids.userId, ids.deviceId, ids.jobId, ids.profileId, ids.groupId), hex32);
  });
  return fc.tuple(...segments).map((s) => `/${s.join('/')}`);
}

function pathFor(route: AnyRoute, world: World): fc.Arbitrary<string> {
  const parts = route.route === '' ? [] : route.route.split('/');
  const segments = parts.map((part) => {
    if (part.startsWith('{*')) {
      return fc
        .array(
          fc.oneof(
            fc.constantFrom(...SEGMENT_TRICKS),
            hostileString.map(encodeSegment),
            fc.constantFrom('api', 'oauth', 'device', '.well-known', 'jobs', 'users', 'regions'),
          ),
          { maxLength: 6 },
        )
        .map((s) => s.join('/'));
    }
    if (part.startsWith('{')) return paramSegment(route, part.slice(1, -1), world);
    return literalSegment(part);
  });
  return fc
    .tuple(fc.tuple(...segments), fc.constantFrom('', '', '', '', '/', '//'), fc.constantFrom('/', '/', '/', '/', '//', '/./'))
    .map(([s, tail, lead]) => `${lead}${s.join('/')}${tail}`);
}

// ---------------------------------------------------------------------------------------------
// Queries

const encodeQueryPart = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

const CONTINUATION_TRICKS = [
  'null',
  '1',
  '-1',
  '"x"',
  '{}',
  '[]',
  '{"token":"x"}',
  '{"token":1}',
  '[{"token":null,"range":{"min":"","max":"FF"}}]',
  '{"compositeToken":"x"}',
  'eyJ0b2tlbiI6IngifQ',
  'A'.repeat(4096),
];

/** No query, or one the route's schema accepts (so the handler runs with it). */
function goodQuery(route: AnyRoute): fc.Arbitrary<string> {
  const schema = route.request?.query as JsonSchema | undefined;
  if (!schema?.properties || Object.keys(schema.properties).length === 0) return fc.constant('');
  const known: Record<string, fc.Arbitrary<unknown>> = {
    continuationToken: fc.constantFrom(...CONTINUATION_TRICKS),
    state: fc.constantFrom('queued', 'registered', 'released'),
    filter: fc.constantFrom(...SCIM_FILTERS),
    attributes: fc.constantFrom('userName', 'emails,active', 'members', `${SCIM_ENTERPRISE}:department`, 'x,,y', ''),
    excludedAttributes: fc.constantFrom('members', 'emails', 'id,schemas,meta', ''),
  };
  return fc.oneof(
    fc.constant(''),
    schemaValue(schema, known).map((value) => {
      const pairs = Object.entries((value ?? {}) as Record<string, unknown>).map(
        ([k, v]) => `${encodeQueryPart(k)}=${encodeQueryPart(String(v))}`,
      );
      return pairs.length ? `?${pairs.join('&')}` : '';
    }),
  );
}

function queryFor(route: AnyRoute, world: World): fc.Arbitrary<string> {
  const schema = route.request?.query as JsonSchema | undefined;
  const names = Object.keys(schema?.properties ?? {});
  const keyArb = fc.oneof(
    { weight: 4, arbitrary: names.length ? fc.constantFrom(...names) : fc.constantFrom('limit', 'q') },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'limit[]', 'a[b]', '', 'LIMIT', 'limit ', '%00') },
    { weight: 1, arbitrary: hostileString },
  );
  const valueArb = fc.oneof(
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '0',
        '1',
        '25',
        '100',
        '101',
        '-1',
        '1.5',
        '1e2',
        '0x10',
        'NaN',
        'Infinity',
        ' 5',
        '5 ',
        'true',
        'false',
        '',
        'null',
        '[]',
      ),
    },
    { weight: 2, arbitrary: fc.constantFrom(...CONTINUATION_TRICKS) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'queued',
        'registered',
        'released',
        'printed',
        'cancelled',
        'QUEUED',
        'ann',
        'uma',
        '@',
        'ann@fuzz.test',
        world.tenant.slug,
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom('BCDF-GHJK', 'bcdfghjk', 'BCDFGHJ', 'x'.repeat(65), 'x'.repeat(257), 'x'.repeat(5000)) },
    { weight: 1, arbitrary: fc.constantFrom(...SCIM_FILTERS) },
    { weight: 3, arbitrary: hostileString },
  );
  const pair = fc.tuple(keyArb, valueArb, fc.constantFrom('encoded', 'encoded', 'plus', 'raw', 'no-equals')).map(([k, v, how]) => {
    const key = encodeQueryPart(k);
    if (how === 'no-equals') return key;
    if (how === 'plus') return `${key}=${encodeQueryPart(v).replace(/%20/g, '+')}`;
    // unencoded, as far as HTTP lets a request target carry it (visible ASCII)
    if (how === 'raw')
      return `${key}=${[...v].filter((c) => c.charCodeAt(0) >= 0x21 && c.charCodeAt(0) <= 0x7e && c !== '#' && c !== '&').join('')}`;
    return `${key}=${encodeQueryPart(v)}`;
  });
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    { weight: 4, arbitrary: fc.array(pair, { minLength: 1, maxLength: 5 }).map((pairs) => `?${pairs.join('&')}`) },
    // repeated keys
    { weight: 2, arbitrary: fc.tuple(pair, fc.integer({ min: 2, max: 4 })).map(([p, n]) => `?${Array(n).fill(p).join('&')}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '?',
        '?&&&',
        '?=',
        '?==x',
        '?%',
        '?%zz=1',
        '?a=%ED%A0%80',
        '?limit=%C0%B1',
        '?;limit=1',
        `?q=${'x'.repeat(8000)}`,
        `?continuationToken=${'x'.repeat(5000)}`,
        '?#x',
      ),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Bodies

const CONTENT_TYPES = [
  'application/json',
  'application/scim+json',
  'application/scim+json; charset=utf-8',
  'application/scim+json; charset=utf-16',
  'APPLICATION/SCIM+JSON',
  'application/scim',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'application/json; charset="utf-8"',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=utf-8; charset=utf-16',
  'application/json ; foo=bar',
  'application/json, text/plain',
  'application/problem+json',
  'application/jsonx',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/x-www-form-urlencoded; charset=iso-8859-1',
  'multipart/form-data; boundary=xyz',
  'text/plain',
  'text/html',
  '*/*',
  '',
  ';',
  'application/json\u00e9',
];

function contentTypeHeaders(preferred: string | undefined): fc.Arbitrary<[string, string][]> {
  const any = fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerText(40));
  const main = preferred ? fc.oneof({ weight: 6, arbitrary: fc.constant(preferred) }, { weight: 3, arbitrary: any }) : any;
  return fc.oneof(
    { weight: 8, arbitrary: main.map((ct): [string, string][] => [['Content-Type', ct]]) },
    { weight: 1, arbitrary: fc.constant<[string, string][]>([]) },
    {
      weight: 1,
      arbitrary: fc.tuple(main, any).map(([a, b]): [string, string][] => [
        ['Content-Type', a],
        ['Content-Type', b],
      ]),
    },
  );
}

/** A JSON document padded to exactly `bytes` bytes with one string field (of `char`). */
function paddedJson(field: string, bytes: number, char: string): string {
  const shell = `{${JSON.stringify(field)}:""}`;
  const room = bytes - Buffer.byteLength(shell);
  const unit = Buffer.byteLength(char);
  return `{${JSON.stringify(field)}:"${char.repeat(Math.max(0, Math.floor(room / unit)))}${'a'.repeat(Math.max(0, room % unit))}"}`;
}

const SIZES = [BODY_LIMIT - 1, BODY_LIMIT, BODY_LIMIT + 1, BODY_LIMIT * 2];

const INVALID_JSON = [
  '{',
  '}',
  '{"a":1,}',
  "{'a':1}",
  '{"a":NaN}',
  '{"a":undefined}',
  '{"a":1} trailing',
  '{"a":1}{"b":2}',
  '/* c */ {}',
  '\uFEFF{}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"a":"\\x41"}',
  '{"a":01}',
  '{"a":.5}',
  '{"a":1e}',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"a":1,"a":2}',
  'null',
  'true',
  '0',
  '""',
  '[]',
  '"\\ud800"',
  ' ',
  '\u0000',
];

const INVALID_UTF8 = [
  [0xc0, 0xae], // overlong "."
  [0xe0, 0x80, 0xaf], // overlong "/"
  [0xed, 0xa0, 0x80], // CESU lone surrogate
  [0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00], // UTF-16LE BOM + "{}"
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0x80],
  [0xc3],
];

function utf8Tricks(prefix: string, suffix: string): fc.Arbitrary<Uint8Array> {
  return fc.constantFrom(...INVALID_UTF8).map((bytes) => Buffer.concat([Buffer.from(prefix), Buffer.from(bytes), Buffer.from(suffix)]));
}

/** A body the route's schema (mostly) accepts; none for routes without one. */
function goodBody(route: AnyRoute, world: World): fc.Arbitrary<BodyChoice> {
  const schemas = route.request ?? {};
  const scim = scimBodyFor(route, world);
  if (scim) return scim.map((v) => ({ body: text(toJsonText(v)) }));
  if (schemas.body) {
    const value = schemaValue(schemas.body as JsonSchema, knownJsonValues(world)).map((v) => ({ body: text(toJsonText(v)) }));
    return schemas.bodyOptional ? fc.oneof(value, fc.constant({})) : value;
  }
  if (schemas.form) {
    const names = Object.keys((schemas.form as JsonSchema).properties ?? {});
    const known = knownFormValues(world);
    return fc
      .record(Object.fromEntries(names.map((n) => [n, (Object.hasOwn(known, n) ? known[n] : undefined) ?? fc.string({ maxLength: 20 })])), {
        requiredKeys: [],
      })
      .map((fields) => ({ body: text(new URLSearchParams(fields as Record<string, string>).toString()) }));
  }
  return fc.constant({});
}

interface BodyChoice {
  readonly body?: Uint8Array;
  readonly chunked?: boolean;
}

const text = (s: string) => Buffer.from(s, 'utf8');

function jsonBody(schema: JsonSchema, known: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<BodyChoice> {
  const valid = schemaValue(schema, known);
  const names = Object.keys(schema.properties ?? {});
  const field = names[0] ?? 'a';
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(valid, mutated(schema, valid)).map((v) => ({ body: text(toJsonText(v)) })) },
    { weight: 3, arbitrary: wrongTypes(schema).map((v) => ({ body: text(toJsonText(v)) })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ body: text(JSON.stringify(v)) })) },
    { weight: 2, arbitrary: fc.constantFrom(...INVALID_JSON).map((s) => ({ body: text(s) })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((body) => ({ body })) },
    { weight: 1, arbitrary: fc.constant({ body: new Uint8Array(0) }) },
    { weight: 1, arbitrary: fc.constant({}) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...SIZES), fc.constantFrom('x', 'é', '\u{1F600}'), fc.boolean())
        .map(([size, char, chunked]) => ({ body: text(paddedJson(field, size, char)), chunked })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(10_000, 30_000)
        .chain((d) => fc.constantFrom(deepArrays(d), deepObjects(d)))
        .map((raw) => ({ body: text(raw.text) })),
    },
    { weight: 1, arbitrary: fc.constant(10_000).map((d) => ({ body: text(`{${JSON.stringify(field)}:${deepArrays(d).text}}`) })) },
    { weight: 1, arbitrary: utf8Tricks(`{${JSON.stringify(field)}:"`, '"}').map((body) => ({ body })) },
  );
}

/** Well-formed refresh tokens (`rt1.<u|d>.<tenant>.<owner>.<family>.<secret>`) naming real owners, with made-up families and secrets. */
function refreshTokenLike(world: World): fc.Arbitrary<string> {
  const { ids, tenant } = world;
  return fc
    .tuple(
      fc.constantFrom(['u', ids.adminId], ['u', ids.userId], ['d', ids.deviceId], ['u', '0'.repeat(32)]),
      fc.constantFrom(tenant.id, '0'.repeat(32)),
      hex32,
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    )
    .map(([[kind, owner], tenantId, family, secret]) => `rt1.${kind}.${tenantId}.${owner}.${family}.${secret}`);
}

/** Form fields with values that the OAuth endpoints and the device page would act on. */
function knownFormValues(world: World): Record<string, fc.Arbitrary<string>> {
  return {
    grant_type: fc.constantFrom(
      'urn:ietf:params:oauth:grant-type:device_code',
      'password',
      'refresh_token',
      'authorization_code',
      'client_credentials',
      'PASSWORD',
      'constructor',
      '__proto__',
      'toString',
    ),
    client_id: fc.constantFrom(
      'roger-emb',
      'roger-mobile',
      'roger-desktop',
      'ROGER-EMB',
      'roger-web',
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
    ),
    scope: fc.constantFrom(
      'device',
      'session',
      'jobs offline_access',
      'jobs',
      'jobs:submit scan',
      'device device',
      'device session',
      'admin',
      'offline_access',
      ' ',
      'constructor',
    ),
    tenant: fc.constantFrom(world.tenant.slug, 'FUZZ', 'nope', 'constructor'),
    username: fc.constantFrom(admin.username, member.username, admin.email, 'nobody', 'ANN', 'constructor'),
    password: fc.oneof(fc.constantFrom('wrong-password-1', '0000', '', 'constructor'), fc.string({ maxLength: 20 })),
    device_code: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), fc.constantFrom('constructor', '')),
    refresh_token: fc.oneof(refreshTokenLike(world), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), fc.constantFrom('a.b', 'constructor')),
    token: fc.oneof(refreshTokenLike(world), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), fc.constantFrom(world.tokens.user, 'constructor')),
    token_type_hint: fc.constantFrom('refresh_token', 'access_token', 'constructor', 'x'),
    csrf: fc.constantFrom(world.csrf.token, world.csrf.token, 'x'.repeat(43), ''),
    user_code: userCodeLike,
    ticket: fc.oneof(fc.constantFrom(...forgeTokens(world.tokens.user).slice(0, 6)), fc.string({ maxLength: 40 })),
    decision: fc.constantFrom('approve', 'deny', 'APPROVE', 'maybe', 'constructor'),
    name: hostileString,
    location: hostileString,
  };
}

function formBody(route: AnyRoute, world: World): fc.Arbitrary<BodyChoice> {
  const schema = route.request?.form as JsonSchema;
  const names = Object.keys(schema.properties ?? {});
  const known = knownFormValues(world);
  const keyArb = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'client_secret',
        'Grant_Type',
        'grant_type[]',
        '',
      ),
    },
    { weight: 1, arbitrary: hostileString },
  );
  const valueFor = (key: string) =>
    fc.oneof(
      { weight: 3, arbitrary: (Object.hasOwn(known, key) ? known[key] : undefined) ?? hostileString },
      { weight: 2, arbitrary: hostileString },
    );
  const pair = keyArb.chain((key) =>
    fc
      .tuple(fc.constant(key), valueFor(key), fc.constantFrom('encoded', 'encoded', 'encoded', 'plus', 'raw-utf8', 'no-equals'))
      .map(([k, v, how]) => {
        if (how === 'no-equals') return encodeQueryPart(k);
        if (how === 'plus') return `${encodeQueryPart(k)}=${encodeQueryPart(v).replace(/%20/g, '+')}`;
        if (how === 'raw-utf8') return `${encodeQueryPart(k)}=${v.replace(/[&=%+]/g, '')}`;
        return `${encodeQueryPart(k)}=${encodeQueryPart(v)}`;
      }),
  );
  // A coherent request (every field the route knows, plausible values), sometimes with a field repeated.
  const whole = fc
    .tuple(
      fc.record(Object.fromEntries(names.map((n) => [n, (Object.hasOwn(known, n) ? known[n] : undefined) ?? hostileString])), {
        requiredKeys: [],
      }),
      fc.boolean(),
    )
    .map(([fields, repeat]) => {
      const pairs = Object.entries(fields).map(([k, v]) => `${encodeQueryPart(k)}=${encodeQueryPart(v as string)}`);
      if (repeat && pairs.length > 0) pairs.push(pairs[0]!);
      return pairs.join('&');
    });
  const big = fc.tuple(fc.constantFrom(...SIZES), fc.constantFrom(names[0] ?? 'a', 'padding')).map(([size, key]) => {
    const head = `${key}=`;
    return `${head}${'x'.repeat(size - head.length)}`;
  });
  return fc.oneof(
    { weight: 5, arbitrary: whole.map((s) => ({ body: text(s) })) },
    { weight: 4, arbitrary: fc.array(pair, { maxLength: 8 }).map((pairs) => ({ body: text(pairs.join('&')) })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '&&&',
          '=',
          '==',
          '%',
          '%zz=1',
          'a=%ED%A0%80',
          'grant_type=%C0%AE',
          'a=1;b=2',
          '\u0000=\u0000',
          'client_id=roger-emb&client_id=roger-mobile',
        )
        .map((s) => ({ body: text(s) })),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => ({ body: text(JSON.stringify(v)) })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((body) => ({ body })) },
    { weight: 1, arbitrary: fc.constantFrom({}, { body: new Uint8Array(0) }) },
    { weight: 1, arbitrary: fc.tuple(big, fc.boolean()).map(([s, chunked]) => ({ body: text(s), chunked })) },
    { weight: 1, arbitrary: utf8Tricks(`${names[0] ?? 'a'}=`, '').map((body) => ({ body })) },
  );
}

/** Bodies for routes that take none (GET, DELETE, bodyless POST): mostly none, sometimes junk. */
const strayBody: fc.Arbitrary<BodyChoice> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.constant({ body: new Uint8Array(0) }) },
  { weight: 1, arbitrary: fc.constantFrom('{}', 'x', '{"a":1}').map((s) => ({ body: text(s) })) },
  { weight: 1, arbitrary: fc.constantFrom(BODY_LIMIT + 1, 1024).map((n) => ({ body: new Uint8Array(n).fill(0x61) })) },
);

// ---------------------------------------------------------------------------------------------
// SCIM (RFC 7643, RFC 7644): bodies and filters shaped as identity providers send them, with
// hostile values where the names and flags go, so that the domain code behind the media type is reached

const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const SCIM_ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SCIM_PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export const SCIM_FILTERS = [
  `userName eq "${admin.email}"`,
  `USERNAME eq "${member.email.toUpperCase()}"`,
  'userName eq "nobody@fuzz.test"',
  'externalId eq "ext-1"',
  `emails[type eq "work"].value eq "${member.email}"`,
  `emails.value eq "${admin.email}"`,
  'id eq "00000000000000000000000000000000"',
  'displayName eq "Fuzz admins"',
  'userName sw "a"',
  'userName eq "a" and id eq "b"',
  'userName eq "a" or userName eq "b"',
  'not (userName eq "a")',
  'userName pr',
  'emails[type eq "work" or type eq "home"].value eq "x"',
  'members[value eq "x"]',
  'userName eq',
  'userName eq "unterminated',
  'userName eq "\\"',
  'userName eq "a/b"',
  'userName eq ""',
  '(((((((((((((((((((((userName eq "a")))))))))))))))))))))',
  `userName eq "${'x'.repeat(600)}"`,
  'title eq "x"',
  'meta.created gt "2020-01-01T00:00:00Z"',
  'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ann@fuzz.test"',
];

function scimArbitraries(world: World) {
  const { ids } = world;
  const name = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(admin.email, member.email, 'ANN', 'uma', 'x'.repeat(255), 'a/b@fuzz.test', 'a?b', '\u00e9@fuzz.test'),
    },
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z]{1,8}@fuzz\.test$/) },
    { weight: 3, arbitrary: hostileString },
  );
  const active = fc.constantFrom<unknown>(true, false, 'True', 'False', 'true', 'FALSE', 'maybe', 1, null, '');
  const emails = fc.array(
    fc.record(
      {
        value: name,
        type: fc.constantFrom<unknown>('work', 'Work', 'home', 'other', 1, null),
        primary: fc.constantFrom<unknown>(true, false, 'true'),
      },
      { requiredKeys: [] },
    ),
    { maxLength: 3 },
  );
  const schemasOf = (urn: string) => fc.constantFrom<unknown>([urn], [urn], [urn, SCIM_ENTERPRISE], [], ['urn:x'], urn, null);
  const user = fc.record(
    {
      schemas: schemasOf(SCIM_USER),
      userName: name,
      externalId: fc.oneof(fc.constantFrom('ext-1', 'EXT-1', ids.userId), hostileString),
      name: fc.record({ givenName: hostileString, familyName: hostileString, formatted: hostileString }, { requiredKeys: [] }),
      displayName: hostileString,
      emails,
      active,
      [SCIM_ENTERPRISE]: fc.record(
        { employeeNumber: hostileValue, department: hostileString, costCenter: hostileString },
        { requiredKeys: [] },
      ),
      title: hostileString,
      phoneNumbers: fc.constant([{ value: '+1 555 0100', type: 'work' }]),
    },
    { requiredKeys: ['schemas'] },
  );
  const memberValue = fc.constantFrom<unknown>(ids.userId, ids.adminId, '0'.repeat(32), ids.jobId, ids.userId.toUpperCase());
  const members = fc.array(fc.oneof(fc.record({ value: memberValue }), fc.record({ value: hostileValue }), hostileValue), { maxLength: 4 });
  const group = fc.record(
    {
      schemas: schemasOf(SCIM_GROUP),
      displayName: fc.oneof(fc.constantFrom('Fuzz admins', 'FUZZ ADMINS', 'Roger users'), hostileString),
      externalId: fc.oneof(fc.constantFrom('group-1', ids.userId), hostileString),
      members,
    },
    { requiredKeys: ['schemas'] },
  );
  const operation = fc.record(
    {
      op: fc.constantFrom<unknown>('add', 'Add', 'replace', 'Replace', 'remove', 'Remove', 'REPLACE', 'move', '', 1),
      path: fc.oneof(
        fc.constantFrom(
          'active',
          'userName',
          'displayName',
          'emails[type eq "work"].value',
          'name.givenName',
          'members',
          `members[value eq "${ids.userId}"]`,
          'externalId',
          'id',
          'meta.created',
          'groups',
          `${SCIM_ENTERPRISE}:department`,
          'emails[',
          'a..b',
          'title',
        ),
        hostileString,
      ),
      value: fc.oneof(
        active,
        hostileValue,
        members,
        fc.record(
          { active, displayName: hostileString, userName: name, [`${SCIM_ENTERPRISE}:department`]: hostileString },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: ['op'] },
  );
  const patch = fc.record(
    {
      schemas: fc.constantFrom<unknown>([SCIM_PATCH_OP], [SCIM_PATCH_OP], [], 'x'),
      Operations: fc.oneof(
        { weight: 6, arbitrary: fc.array(operation, { minLength: 1, maxLength: 4 }) },
        { weight: 1, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: hostileValue },
        { weight: 1, arbitrary: fc.constant(Array.from({ length: 101 }, () => ({ op: 'replace', path: 'displayName', value: 'x' }))) },
      ),
    },
    { requiredKeys: ['Operations'] },
  );
  // Well-formed ones too, so that writes get past validation and meet the store and the name claims.
  const fresh = fc.stringMatching(/^[a-z]{3,10}$/);
  const validUser = fc.record({
    schemas: fc.constant([SCIM_USER]),
    userName: fc.oneof(
      fresh.map((n) => `${n}@fuzz.test`),
      fc.constantFrom(admin.email, member.email, 'ANN@FUZZ.TEST'),
    ),
    externalId: fc.oneof(fresh, fc.constant('ext-1')),
    displayName: fresh,
    emails: fresh.map((n) => [{ value: `${n}@fuzz.test`, type: 'work', primary: true }]),
    active: fc.constantFrom<unknown>(true, 'True', 'False', false),
  });
  const validGroup = fc.record({
    schemas: fc.constant([SCIM_GROUP]),
    displayName: fc.oneof(fresh, fc.constant('Fuzz admins')),
    externalId: fc.oneof(fresh, fc.constant('group-1')),
    members: fc.subarray([{ value: ids.userId }, { value: ids.adminId }]),
  });
  const validOperation = fc.oneof(
    fc.record({ op: fc.constantFrom('Replace', 'replace'), path: fc.constantFrom('displayName', 'name.givenName'), value: fresh }),
    fc.record({ op: fc.constant('Replace'), value: fc.record({ displayName: fresh, active: fc.constantFrom<unknown>('True', true) }) }),
    fc.record({ op: fc.constantFrom('Add', 'Remove'), path: fc.constant('members'), value: fc.constant([{ value: ids.userId }]) }),
    fc.record({ op: fc.constant('Add'), path: fc.constant('externalId'), value: fresh }),
  );
  const validPatch = fc.record({
    schemas: fc.constant([SCIM_PATCH_OP]),
    Operations: fc.array(validOperation, { minLength: 1, maxLength: 3 }),
  });
  return {
    user: fc.oneof({ weight: 2, arbitrary: validUser }, { weight: 3, arbitrary: user }),
    group: fc.oneof({ weight: 2, arbitrary: validGroup }, { weight: 3, arbitrary: group }),
    patch: fc.oneof({ weight: 2, arbitrary: validPatch }, { weight: 3, arbitrary: patch }),
  };
}

/** A SCIM body for the route (a User, a Group or a PatchOp), or undefined for routes that take none. */
function scimBodyFor(route: AnyRoute, world: World): fc.Arbitrary<unknown> | undefined {
  if (route.errorFormat !== 'scim' || !route.request?.body) return undefined;
  const bodies = scimArbitraries(world);
  if (route.methods.includes('PATCH')) return bodies.patch;
  return route.name.startsWith('scim-groups') ? bodies.group : bodies.user;
}

// ---------------------------------------------------------------------------------------------
// Whole requests

const OTHER_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND'];

/** Field values that make a JSON body's handler act on the fuzzer's own data. */
function knownJsonValues(world: World): Record<string, fc.Arbitrary<unknown>> {
  return {
    user_code: userCodeLike,
    itemId: fc.constantFrom('LOCALNOSUCHITEM', 'x', '..', 'a'.repeat(200)),
    profileId: fc.constantFrom(world.ids.profileId, '0'.repeat(32)),
    userIds: fc.constant([world.ids.userId]),
    username: fc.constantFrom(admin.username, member.username, 'ANN'),
    email: fc.constantFrom(admin.email, member.email),
    current: fc.constantFrom('0000', 'wrong-password-1'),
  };
}

/** Extra headers any request may carry. */
const noiseHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.oneof(
    fc.constantFrom<[string, string]>(
      ['Accept', 'application/xml'],
      ['Accept', '*/*'],
      ['If-None-Match', '*'],
      ['If-None-Match', '"x"'],
      ['If-Match', '*'],
      ['X-Forwarded-For', '203.0.113.7'],
      ['X-Forwarded-For', 'not-an-ip, 1.2.3.4'],
      ['X-HTTP-Method-Override', 'DELETE'],
      ['Origin', 'https://evil.example'],
      ['Accept-Charset', 'utf-16'],
      ['Content-Encoding', 'gzip'],
      ['Expect', '100-continue'],
    ),
    fc.tuple(fc.constantFrom('x-operator-key', 'Cookie', 'X-Forwarded-For', 'Accept'), headerText(60)),
  ),
  { maxLength: 2 },
);

/** Which part of a request is hostile; the others are well-formed, so the hostile part reaches the code that handles it. */
const FOCI = ['body', 'body', 'body', 'query', 'path', 'auth', 'contentType', 'method', 'everything', 'everything'] as const;

export function requestArbitrary(route: AnyRoute, world: World, creds: Credentials | undefined): fc.Arbitrary<RawRequest> {
  const served = servedMethods(route);
  const schemas = route.request ?? {};
  const preferredType = schemas.body
    ? (schemas.jsonMediaTypes?.[0] ?? 'application/json')
    : schemas.form
      ? 'application/x-www-form-urlencoded'
      : undefined;
  // The /oauth routes take the printer's token; the /scim/v2 routes check a SCIM token in the handler.
  const takesToken = Boolean(route.auth) || route.route.startsWith('oauth/') || route.errorFormat === 'scim';
  const scim = scimBodyFor(route, world);

  const good = fc.record({
    method: fc.constantFrom(...served),
    path: canonicalPath(route, world),
    query: goodQuery(route),
    auth:
      takesToken && creds?.valid.length
        ? fc.constantFrom(...creds.valid).map((t): [string, string][] => [['Authorization', `Bearer ${t}`]])
        : fc.constant<[string, string][]>([]),
    contentType: fc.constant<[string, string][]>(preferredType ? [['Content-Type', preferredType]] : []),
    body: goodBody(route, world),
  });
  const hostile = fc.record({
    method: fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...served) }, { weight: 2, arbitrary: fc.constantFrom(...OTHER_METHODS) }),
    path: pathFor(route, world),
    query: queryFor(route, world),
    auth: takesToken
      ? authorizationHeaders(creds)
      : fc.oneof({ weight: 3, arbitrary: fc.constant<[string, string][]>([]) }, { weight: 1, arbitrary: authorizationHeaders(creds) }),
    contentType: contentTypeHeaders(preferredType),
    body: scim
      ? fc.oneof(
          {
            weight: 2,
            arbitrary: mutated({ properties: { schemas: {}, userName: {}, active: {}, Operations: {}, members: {} } }, scim).map(
              (v): BodyChoice => ({ body: text(toJsonText(v)) }),
            ),
          },
          { weight: 3, arbitrary: jsonBody(schemas.body as JsonSchema, knownJsonValues(world)) },
        )
      : schemas.body
        ? jsonBody(schemas.body as JsonSchema, knownJsonValues(world))
        : schemas.form
          ? formBody(route, world)
          : strayBody,
  });

  const isDevicePage = route.route === 'device' || route.route === 'device/decision';
  const cookies: fc.Arbitrary<[string, string][]> = isDevicePage
    ? fc.oneof(
        { weight: 5, arbitrary: fc.constant<[string, string][]>([['Cookie', world.csrf.cookie]]) },
        { weight: 1, arbitrary: fc.constant<[string, string][]>([]) },
        {
          weight: 2,
          arbitrary: hostileString.map((v): [string, string][] => [['Cookie', `roger_device_csrf=${encodeQueryPart(v).slice(0, 4000)}`]]),
        },
        {
          weight: 1,
          arbitrary: fc.constant<[string, string][]>([['Cookie', `${world.csrf.cookie}; ${world.csrf.cookie.replace(/=.*/, '=x')}`]]),
        },
      )
    : fc.constant([]);
  const operator: fc.Arbitrary<[string, string][]> =
    route.name === 'tenants-create'
      ? fc.constantFrom<[string, string][]>(
          [['x-operator-key', OPERATOR_KEY]],
          [['x-operator-key', OPERATOR_KEY]],
          [],
          [['x-operator-key', `${OPERATOR_KEY}x`]],
          [['x-operator-key', OPERATOR_KEY.toUpperCase()]],
        )
      : fc.constant([]);

  return fc
    .record({ focus: fc.constantFrom(...FOCI), good, hostile, cookies, operator, noise: noiseHeaders })
    .map(({ focus, good: g, hostile: h, cookies: c, operator: o, noise }) => {
      const pick = <K extends keyof typeof g>(key: K, ...foci: (typeof FOCI)[number][]) =>
        focus === 'everything' || foci.includes(focus) ? h[key] : g[key];
      const method = pick('method', 'method');
      // Node's parser refuses a TRACE with a body (RFC 9110 §9.3.8) before any app code.
      const b = method === 'TRACE' ? {} : pick('body', 'body');
      const hasBody = b.body !== undefined;
      // A hostile body comes with the content type it was written in (or none), a hostile type with a good body.
      const contentType = pick('contentType', 'contentType');
      const headers = [
        ...pick('auth', 'auth'),
        ...(hasBody || focus === 'contentType' || focus === 'everything' ? contentType : []),
        ...c,
        ...o,
        ...noise,
      ];
      // Node refuses request heads over 16 KB (431) before any app code: stay below it.
      const headerBytes = headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
      const target = `${pick('path', 'path')}${pick('query', 'query')}`.slice(0, Math.max(1, Math.min(6000, 14_000 - headerBytes)));
      return {
        method,
        target,
        headers,
        ...(hasBody ? { body: b.body } : {}),
        ...(b.chunked ? { chunked: true } : {}),
        // fast-check prints counterexamples with this (the bodies can be 64 KB)
        [fc.toStringMethod]() {
          return describeRequest(this);
        },
      } satisfies RawRequest & { [fc.toStringMethod](): string };
    });
}

/** The biggest body the local host reads before refusing (used once, by a focused test). */
export const HOST_BODY_LIMIT = HOST_LIMIT;
