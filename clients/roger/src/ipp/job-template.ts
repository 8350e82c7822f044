import type { PrintOptions } from '../printing/submit.js';
import { collection, enums, integer, keyword, outOfBand, Tag, type Attribute, type DecodedGroup, type DecodedValue } from './encoding.js';
import { MEDIA_SOURCE, MEDIA_TYPE, mediumByName, mediumBySize, type Medium } from './media.js';
import { COLOR_MODES, JOB_CREATION_ATTRIBUTES, MAX_COPIES, MEDIA_COL_MEMBERS, SIDES } from './printer-attributes.js';

/**
 * A job's Job Template attributes (RFC 8011 §5.2) turned into a Roger job's options
 * (docs/clients.md#the-ipp-printer): copies → copies, sides → duplex, print-color-mode → color,
 * media or media-col → paperSize. Everything else the printer lists as supported is accepted
 * and has no effect on a PDF (one quality, one resolution, the page's own orientation).
 */
export interface JobTicket {
  readonly options: PrintOptions;
  /** What the job reports back as its own attributes. */
  readonly copies: number;
  readonly sides: (typeof SIDES)[number] | undefined;
  readonly colorMode: (typeof COLOR_MODES)[number] | undefined;
  readonly medium: Medium | undefined;
  /** Attributes or values not supported, for the unsupported-attributes group (RFC 8011 §4.1.7). */
  readonly unsupported: Attribute[];
}

const ENUM_VALUES: Record<string, Record<string, number>> = {
  finishings: { none: 3 },
  'orientation-requested': { portrait: 3, landscape: 4, 'reverse-landscape': 5, 'reverse-portrait': 6 },
  'print-quality': { draft: 3, normal: 4, high: 5 },
};

export function readJobTemplate(job: DecodedGroup | undefined): JobTicket {
  const unsupported: Attribute[] = [];
  const options: { -readonly [K in keyof PrintOptions]: PrintOptions[K] } = {};
  let copies = 1;
  let sides: JobTicket['sides'];
  let colorMode: JobTicket['colorMode'];
  let medium: Medium | undefined;

  for (const [name, value] of Object.entries(job ?? {})) {
    const refuse = () => unsupported.push(echo(name, value));
    if (!(JOB_CREATION_ATTRIBUTES as readonly string[]).includes(name)) {
      unsupported.push(outOfBand(name, Tag.unsupported));
      continue;
    }
    switch (name) {
      case 'copies':
        if (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_COPIES) copies = options.copies = value as number;
        else refuse();
        break;
      case 'sides':
        if (value === 'one-sided' || value === 'two-sided-long-edge') {
          sides = value;
          options.duplex = value === 'two-sided-long-edge';
        } else refuse();
        break;
      case 'print-color-mode':
        if (value === 'monochrome' || value === 'color') {
          colorMode = value;
          options.color = value === 'color';
        } else refuse();
        break;
      case 'media': {
        const found = typeof value === 'string' ? mediumByName(value) : undefined;
        if (found) medium ??= found;
        else refuse();
        break;
      }
      case 'media-col': {
        const found = mediumOfCollection(value);
        // media-col is the more precise of the two, so it wins over media (PWG 5100.7 §6.3).
        if (found) medium = found;
        else refuse();
        break;
      }
      case 'finishings':
        if (!sameEnum(name, value, [3])) refuse();
        break;
      case 'orientation-requested':
        if (!sameEnum(name, value, [3, 4, 5, 6])) refuse();
        break;
      case 'print-quality':
        if (!sameEnum(name, value, [4])) refuse();
        break;
      case 'printer-resolution':
        if (!(Array.isArray(value) && value[0] === 600 && value[1] === 600 && value[2] === 'dpi')) refuse();
        break;
      case 'output-bin':
        if (value !== 'face-down') refuse();
        break;
      case 'print-content-optimize':
      case 'print-rendering-intent':
        if (value !== 'auto') refuse();
        break;
    }
  }
  if (medium) options.paperSize = medium.paperSize;
  return { options, copies, sides, colorMode, medium, unsupported };
}

function sameEnum(name: string, value: DecodedValue, allowed: number[]): boolean {
  const number = typeof value === 'string' ? ENUM_VALUES[name]?.[value] : value;
  return typeof number === 'number' && allowed.includes(number);
}

function mediumOfCollection(value: DecodedValue): Medium | undefined {
  if (!isCollection(value)) return undefined;
  for (const [member, memberValue] of Object.entries(value)) {
    if (!(MEDIA_COL_MEMBERS as readonly string[]).includes(member)) return undefined;
    if (member === 'media-source' && memberValue !== MEDIA_SOURCE) return undefined;
    if (member === 'media-type' && memberValue !== MEDIA_TYPE) return undefined;
    // Margins only shape a raster page; a PDF keeps its own layout, so any is fine.
    if (member.endsWith('-margin') && !(Number.isInteger(memberValue) && (memberValue as number) >= 0)) return undefined;
  }
  const size = value['media-size'];
  if (!isCollection(size)) return undefined;
  const width = size['x-dimension'];
  const length = size['y-dimension'];
  return typeof width === 'number' && typeof length === 'number' ? mediumBySize(width, length) : undefined;
}

const isCollection = (value: DecodedValue): value is { [member: string]: DecodedValue } =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

/** The client's value back, as the unsupported-attributes group carries it (its syntax from the value's kind). */
export function echo(name: string, value: DecodedValue): Attribute {
  const values = Array.isArray(value) ? value : [value];
  const attributes = values.map((one): Attribute => {
    if (typeof one === 'number') return name in ENUM_VALUES ? enums(name, one) : integer(name, one);
    if (typeof one === 'string') {
      const number = ENUM_VALUES[name]?.[one];
      return number === undefined ? keyword(name, one) : enums(name, number);
    }
    if (isCollection(one))
      return collection(
        name,
        Object.entries(one).map(([member, memberValue]) => echo(member, memberValue)),
      );
    if (typeof one === 'boolean') return { name, values: [{ tag: Tag.boolean, value: one }] };
    return outOfBand(name, Tag.unsupported);
  });
  return { name, values: attributes.flatMap((attribute) => attribute.values) };
}
