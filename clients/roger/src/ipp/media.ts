import type { PrintOptions } from '../printing/submit.js';

/**
 * The paper sizes a Roger job can ask for (the API's `paperSize`), by their PWG 5101.1 names and
 * sizes in hundredths of a millimetre, as IPP's `media` and `media-col` carry them
 * (docs/clients.md#the-ipp-printer).
 */
export interface Medium {
  readonly paperSize: NonNullable<PrintOptions['paperSize']>;
  readonly name: string;
  readonly width: number;
  readonly length: number;
}

export const MEDIA: readonly Medium[] = [
  { paperSize: 'A4', name: 'iso_a4_210x297mm', width: 21000, length: 29700 },
  { paperSize: 'A3', name: 'iso_a3_297x420mm', width: 29700, length: 42000 },
  { paperSize: 'A5', name: 'iso_a5_148x210mm', width: 14800, length: 21000 },
  { paperSize: 'Letter', name: 'na_letter_8.5x11in', width: 21590, length: 27940 },
  { paperSize: 'Legal', name: 'na_legal_8.5x14in', width: 21590, length: 35560 },
];

export const DEFAULT_MEDIUM: Medium = MEDIA[0]!;

/** Office printers do not print to the edge: 4.23 mm (1/6 inch) on every side, as most lasers. */
export const MARGIN = 423;
export const MEDIA_SOURCE = 'auto';
export const MEDIA_TYPE = 'stationery';

/** Sizes as print dialogs round them (a PDF page of 595 × 842 points is 20990 × 29704): within 1 mm. */
const TOLERANCE = 100;

export const mediumByName = (name: string): Medium | undefined => MEDIA.find((medium) => medium.name === name);

export function mediumBySize(width: number, length: number): Medium | undefined {
  return MEDIA.find((medium) => Math.abs(medium.width - width) <= TOLERANCE && Math.abs(medium.length - length) <= TOLERANCE);
}
