import { describe, expect, it } from 'vitest';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import { figuresOf, pdfPageCount, printedFigures, printOptionsOf } from '../src/figures.js';

/** docs/clients.md#what-was-printed: the agent's figures, as the API checks them (shared/jobs/printed-report.ts). */
describe('roger-printer counts what it printed', () => {
  const options = { copies: 1, duplex: false, color: false, paperSize: 'A4' } as const;

  it('counts the page objects of a PDF, not its page tree; anything else is unknown', () => {
    expect(pdfPageCount(multiPagePdf(1))).toBe(1);
    expect(pdfPageCount(multiPagePdf(7))).toBe(7);
    expect(pdfPageCount(Buffer.from('not a PDF /Type /Page'))).toBeUndefined();
    expect(pdfPageCount(Buffer.from('%PDF-1.7\n<< /Type /Pages /Count 3 >>'))).toBeUndefined();
  });

  it('pages times copies; sheets per copy halved (rounded up) when duplex; colour pages all or none', () => {
    expect(printedFigures(3, { ...options, copies: 2 })).toEqual({ pages: 6, sheets: 6, colorPages: 0, duplex: false, paperSize: 'A4' });
    expect(printedFigures(3, { ...options, copies: 2, duplex: true })).toMatchObject({ pages: 6, sheets: 4, duplex: true });
    expect(printedFigures(1, { ...options, duplex: true })).toMatchObject({ pages: 1, sheets: 1 });
    expect(printedFigures(4, { ...options, color: true, paperSize: 'Letter' })).toMatchObject({ colorPages: 4, paperSize: 'Letter' });
  });

  it('no figures without whole options or a countable document: never guessed ones', () => {
    expect(printOptionsOf({ copies: 1 })).toBeUndefined();
    expect(printOptionsOf({ ...options, paperSize: 'B5' })).toBeUndefined();
    expect(printOptionsOf({ ...options, copies: 0 })).toBeUndefined();
    expect(printOptionsOf(options)).toEqual(options);
    expect(figuresOf(multiPagePdf(2), undefined)).toBeUndefined();
    expect(figuresOf(Buffer.from('plain text'), options)).toBeUndefined();
    expect(figuresOf(multiPagePdf(2), options)).toEqual({ pages: 2, sheets: 2, colorPages: 0, duplex: false, paperSize: 'A4' });
  });
});
