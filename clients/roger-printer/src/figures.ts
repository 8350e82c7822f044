/**
 * What the agent reports it printed (docs/clients.md#what-was-printed): pages, sheets, colour
 * pages, duplex and paper size, as `POST /api/jobs/{id}/printed` takes them. The agent prints
 * into a folder, so its figures are what a printer would have made of the document it wrote with
 * the options the release carried — the API checks them against those same options.
 */

export type PaperSize = 'A4' | 'A3' | 'A5' | 'Letter' | 'Legal';

/** The options a release carries: those the printer must print with (print rights applied). */
export interface PrintOptions {
  readonly copies: number;
  readonly duplex: boolean;
  readonly color: boolean;
  readonly paperSize: PaperSize;
}

export interface PrintedFigures {
  readonly pages: number;
  readonly sheets: number;
  readonly colorPages: number;
  readonly duplex: boolean;
  readonly paperSize: PaperSize;
}

const PAPER_SIZES: readonly string[] = ['A4', 'A3', 'A5', 'Letter', 'Legal'];

/** The release's options when they are whole and sound; undefined otherwise (then no figures are reported, never guessed ones). */
export function printOptionsOf(value: unknown): PrintOptions | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { copies, duplex, color, paperSize } = value as Record<string, unknown>;
  if (!Number.isInteger(copies) || (copies as number) < 1) return undefined;
  if (typeof duplex !== 'boolean' || typeof color !== 'boolean') return undefined;
  if (typeof paperSize !== 'string' || !PAPER_SIZES.includes(paperSize)) return undefined;
  return { copies: copies as number, duplex, color, paperSize: paperSize as PaperSize };
}

/**
 * Pages of a PDF, counted as its page objects (`/Type /Page`, not the `/Pages` tree nodes).
 * A simple count: a PDF that keeps its objects in compressed streams shows none, and then the
 * count is unknown (undefined) rather than wrong.
 */
export function pdfPageCount(bytes: Uint8Array): number | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!text.startsWith('%PDF-')) return undefined;
  const pages = text.match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0;
  return pages > 0 ? pages : undefined;
}

/**
 * The figures for `documentPages` printed with `options`: every copy whole, two sides per sheet
 * when duplex (a copy with an odd number of pages leaves its last back blank), every page in
 * colour when colour was asked (the agent cannot tell a colour page from a grey one).
 */
export function printedFigures(documentPages: number, options: PrintOptions): PrintedFigures {
  const pages = documentPages * options.copies;
  const sheetsPerCopy = options.duplex ? Math.ceil(documentPages / 2) : documentPages;
  return {
    pages,
    sheets: sheetsPerCopy * options.copies,
    colorPages: options.color ? pages : 0,
    duplex: options.duplex,
    paperSize: options.paperSize,
  };
}

/** The figures of a document the agent wrote, when it knows them: a PDF it can count, and options it understood. */
export function figuresOf(bytes: Uint8Array, options: PrintOptions | undefined): PrintedFigures | undefined {
  const pages = options && pdfPageCount(bytes);
  return options && pages ? printedFigures(pages, options) : undefined;
}
