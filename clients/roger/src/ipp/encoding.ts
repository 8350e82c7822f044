import parse from '@sealsystems/ipp/lib/parser.js';

/**
 * IPP's binary encoding (RFC 8010) for `roger printer` (docs/clients.md#the-ipp-printer).
 *
 * Requests are decoded by @sealsystems/ipp, the maintained fork of the `ipp` package: it keeps the
 * document bytes as a Buffer and reads collections such as `media-col`, where `ipp` 2.0.1 turns
 * the document into a UTF-8 string (a PDF would not survive). Answers are encoded here, by hand:
 * no package on the list writes an attribute its own registry does not know (`printer-uuid`,
 * `media-col-database`, …), nor the unsupported-attributes group, nor out-of-band values with
 * their own tags — and an IPP printer must send all three.
 */

/** Value tags (RFC 8010 §3.5.2) that the printer writes. */
export const Tag = {
  unsupported: 0x10,
  unknown: 0x12,
  noValue: 0x13,
  integer: 0x21,
  boolean: 0x22,
  enum: 0x23,
  octetString: 0x30,
  dateTime: 0x31,
  resolution: 0x32,
  rangeOfInteger: 0x33,
  begCollection: 0x34,
  endCollection: 0x37,
  text: 0x41,
  name: 0x42,
  keyword: 0x44,
  uri: 0x45,
  uriScheme: 0x46,
  charset: 0x47,
  naturalLanguage: 0x48,
  mimeMediaType: 0x49,
  memberAttrName: 0x4a,
} as const;

/** Delimiter tags (RFC 8010 §3.5.1). */
export const GroupTag = { operation: 0x01, job: 0x02, end: 0x03, printer: 0x04, unsupported: 0x05 } as const;

export type Value =
  | { readonly tag: typeof Tag.integer | typeof Tag.enum; readonly value: number }
  | { readonly tag: typeof Tag.boolean; readonly value: boolean }
  | { readonly tag: typeof Tag.dateTime; readonly value: Date }
  | { readonly tag: typeof Tag.resolution; readonly value: { readonly x: number; readonly y: number; readonly unit: 'dpi' | 'dpcm' } }
  | { readonly tag: typeof Tag.rangeOfInteger; readonly value: readonly [number, number] }
  | { readonly tag: typeof Tag.begCollection; readonly value: readonly Attribute[] }
  | { readonly tag: typeof Tag.unsupported | typeof Tag.unknown | typeof Tag.noValue }
  | { readonly tag: StringTag; readonly value: string };

type StringTag =
  | typeof Tag.octetString
  | typeof Tag.text
  | typeof Tag.name
  | typeof Tag.keyword
  | typeof Tag.uri
  | typeof Tag.uriScheme
  | typeof Tag.charset
  | typeof Tag.naturalLanguage
  | typeof Tag.mimeMediaType;

/** An attribute with one or more values (a 1setOf when more than one). */
export interface Attribute {
  readonly name: string;
  readonly values: readonly Value[];
}

export interface Group {
  readonly tag: number;
  readonly attributes: readonly Attribute[];
}

export interface Response {
  readonly version: readonly [number, number];
  readonly statusCode: number;
  readonly requestId: number;
  readonly groups: readonly Group[];
}

// Shorthands for building attributes.
export const integer = (name: string, ...values: number[]): Attribute => ({
  name,
  values: values.map((value) => ({ tag: Tag.integer, value })),
});
export const enums = (name: string, ...values: number[]): Attribute => ({
  name,
  values: values.map((value) => ({ tag: Tag.enum, value })),
});
export const boolean = (name: string, value: boolean): Attribute => ({ name, values: [{ tag: Tag.boolean, value }] });
export const strings = (name: string, tag: StringTag, ...values: string[]): Attribute => ({
  name,
  values: values.map((value) => ({ tag, value })),
});
export const keyword = (name: string, ...values: string[]) => strings(name, Tag.keyword, ...values);
export const text = (name: string, ...values: string[]) => strings(name, Tag.text, ...values);
export const nameAttr = (name: string, ...values: string[]) => strings(name, Tag.name, ...values);
export const uri = (name: string, ...values: string[]) => strings(name, Tag.uri, ...values);
export const dateTime = (name: string, value: Date): Attribute => ({ name, values: [{ tag: Tag.dateTime, value }] });
export const range = (name: string, low: number, high: number): Attribute => ({
  name,
  values: [{ tag: Tag.rangeOfInteger, value: [low, high] }],
});
export const resolution = (name: string, dpi: number): Attribute => ({
  name,
  values: [{ tag: Tag.resolution, value: { x: dpi, y: dpi, unit: 'dpi' } }],
});
export const collection = (name: string, ...members: (readonly Attribute[])[]): Attribute => ({
  name,
  values: members.map((value) => ({ tag: Tag.begCollection, value })),
});
export const outOfBand = (name: string, tag: typeof Tag.unsupported | typeof Tag.unknown | typeof Tag.noValue): Attribute => ({
  name,
  values: [{ tag }],
});

/**
 * The operation attributes every answer starts with (RFC 8011 §4.1.4.2): its charset and natural
 * language, and a status-message for the person at the print dialog.
 */
export const operationGroup = (statusMessage: string): Group => ({
  tag: GroupTag.operation,
  attributes: [
    strings('attributes-charset', Tag.charset, 'utf-8'),
    strings('attributes-natural-language', Tag.naturalLanguage, 'en'),
    text('status-message', statusMessage),
  ],
});

/** The bytes of an IPP response (RFC 8010 §3.1.1). */
export function encodeResponse(response: Response): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(8);
  header.writeUInt8(response.version[0], 0);
  header.writeUInt8(response.version[1], 1);
  header.writeUInt16BE(response.statusCode, 2);
  header.writeUInt32BE(response.requestId >>> 0, 4);
  parts.push(header);
  for (const group of response.groups) {
    parts.push(Buffer.of(group.tag));
    for (const attribute of group.attributes) writeAttribute(parts, attribute.name, attribute.values);
  }
  parts.push(Buffer.of(GroupTag.end));
  return Buffer.concat(parts);
}

function writeAttribute(parts: Buffer[], name: string, values: readonly Value[]): void {
  values.forEach((value, index) => {
    // Additional values of a 1setOf have an empty name (RFC 8010 §3.1.5).
    parts.push(Buffer.of(value.tag), lengthPrefixed(Buffer.from(index === 0 ? name : '', 'utf8')));
    if (value.tag !== Tag.begCollection) {
      parts.push(lengthPrefixed(valueBytes(value)));
      return;
    }
    // A collection (RFC 8010 §3.1.6): empty value, then each member as memberAttrName + value, then endCollection.
    parts.push(lengthPrefixed(Buffer.alloc(0)));
    for (const member of value.value) {
      parts.push(Buffer.of(Tag.memberAttrName), lengthPrefixed(Buffer.alloc(0)), lengthPrefixed(Buffer.from(member.name, 'utf8')));
      writeAttribute(parts, '', member.values);
    }
    parts.push(Buffer.of(Tag.endCollection), lengthPrefixed(Buffer.alloc(0)), lengthPrefixed(Buffer.alloc(0)));
  });
}

function valueBytes(value: Exclude<Value, { tag: typeof Tag.begCollection }>): Buffer {
  switch (value.tag) {
    case Tag.integer:
    case Tag.enum: {
      const bytes = Buffer.alloc(4);
      bytes.writeInt32BE(value.value);
      return bytes;
    }
    case Tag.boolean:
      return Buffer.of(value.value ? 1 : 0);
    case Tag.rangeOfInteger: {
      const bytes = Buffer.alloc(8);
      bytes.writeInt32BE(value.value[0], 0);
      bytes.writeInt32BE(value.value[1], 4);
      return bytes;
    }
    case Tag.resolution: {
      const bytes = Buffer.alloc(9);
      bytes.writeInt32BE(value.value.x, 0);
      bytes.writeInt32BE(value.value.y, 4);
      bytes.writeInt8(value.value.unit === 'dpi' ? 3 : 4, 8);
      return bytes;
    }
    case Tag.dateTime:
      return dateTimeBytes(value.value);
    case Tag.unsupported:
    case Tag.unknown:
    case Tag.noValue:
      return Buffer.alloc(0);
    default:
      return Buffer.from(value.value, 'utf8');
  }
}

/** RFC 2579 DateAndTime, always in UTC (so the answer does not depend on the machine's zone). */
function dateTimeBytes(date: Date): Buffer {
  const bytes = Buffer.alloc(11);
  bytes.writeUInt16BE(date.getUTCFullYear(), 0);
  bytes.writeUInt8(date.getUTCMonth() + 1, 2);
  bytes.writeUInt8(date.getUTCDate(), 3);
  bytes.writeUInt8(date.getUTCHours(), 4);
  bytes.writeUInt8(date.getUTCMinutes(), 5);
  bytes.writeUInt8(date.getUTCSeconds(), 6);
  bytes.writeUInt8(Math.floor(date.getUTCMilliseconds() / 100), 7);
  bytes.write('+', 8, 'ascii');
  return bytes;
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** A decoded value as @sealsystems/ipp gives it: numbers, strings, booleans, arrays and collections as objects. */
export type DecodedValue = string | number | boolean | Date | DecodedValue[] | { [member: string]: DecodedValue } | undefined;
export type DecodedGroup = Record<string, DecodedValue>;

/** A request as the printer reads it. */
export interface Request {
  readonly version: readonly [number, number];
  readonly operationId: number;
  readonly requestId: number;
  readonly operation: DecodedGroup | undefined;
  /** The operation attributes' names in the order sent (RFC 8011 §4.1.4 wants charset, then language, first). */
  readonly operationOrder: readonly string[];
  readonly job: DecodedGroup | undefined;
  /** Any group the operation does not define (a printer group in a request, a second operation group). */
  readonly strayGroups: boolean;
  readonly document: Buffer;
}

export class MalformedRequest extends Error {}

/** Decodes a request, or throws MalformedRequest (client-error-bad-request). */
export function decodeRequest(bytes: Buffer): Request {
  if (bytes.length < 9) throw new MalformedRequest('a request shorter than its header');
  let decoded: Record<string, unknown>;
  try {
    decoded = parse(bytes);
  } catch (error) {
    throw new MalformedRequest((error as Error).message);
  }
  const operation = decoded['operation-attributes-tag'];
  const job = decoded['job-attributes-tag'];
  const known = new Set(['version', 'operation', 'statusCode', 'id', 'data', 'operation-attributes-tag', 'job-attributes-tag']);
  return {
    // Read from the header directly: the parser names only the operations it knows.
    version: [bytes.readUInt8(0), bytes.readUInt8(1)],
    operationId: bytes.readUInt16BE(2),
    requestId: bytes.readInt32BE(4),
    operation: isGroup(operation) ? operation : undefined,
    operationOrder: isGroup(operation) ? Object.keys(operation) : [],
    job: isGroup(job) ? job : undefined,
    strayGroups: Array.isArray(operation) || Array.isArray(job) || Object.keys(decoded).some((key) => !known.has(key)),
    document: Buffer.isBuffer(decoded.data) ? decoded.data : Buffer.alloc(0),
  };
}

const isGroup = (value: unknown): value is DecodedGroup => typeof value === 'object' && value !== null && !Array.isArray(value);
