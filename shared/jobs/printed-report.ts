import { Invalid, type FieldError } from '../errors.js';
import type { FailureReason, JobDoc, JobOptions, PrintedCounts } from './jobs.js';

/**
 * What a printer may report of a job it was sent (docs/flows.md#what-was-printed), as pure
 * rules: the report's shape (figures, a failure, or nothing from an older agent), and figures
 * that fit the options the printer received. Figures are personal data and feed the usage
 * reports, so a figure that cannot be true (colour pages from a mono job, more sheets than
 * pages) is refused rather than stored.
 */

/** A printed report as the body carries it: every field optional, so that the rules below can name what is wrong. */
export interface PrintedBody extends Partial<PrintedCounts> {
  readonly failed?: FailureReason;
}

/** What the printer reports: printed (with its figures, when the agent knows them), or why it could not print. */
export type PrintReport = { readonly failed: FailureReason } | { readonly printed?: PrintedCounts };

const FIGURES = ['pages', 'sheets', 'colorPages', 'duplex', 'paperSize'] as const satisfies readonly (keyof PrintedCounts)[];

/**
 * The report in `body`: `{ failed }` alone, all five figures, or none (an agent that counts
 * nothing). Half the figures would make the usage reports lie, and figures beside a failure
 * say two things at once: both are a 400 naming each field.
 */
export function printReportOf(body: PrintedBody = {}): PrintReport {
  const given = FIGURES.filter((field) => body[field] !== undefined);
  if (body.failed !== undefined) {
    if (given.length) throw invalid(given.map((field) => ({ pointer: `/body/${field}`, detail: 'is not allowed with `failed`' })));
    return { failed: body.failed };
  }
  if (!given.length) return {};
  const missing = FIGURES.filter((field) => body[field] === undefined);
  if (missing.length) throw invalid(missing.map((field) => ({ pointer: `/body/${field}`, detail: 'is required with the other figures' })));
  const { pages, sheets, colorPages, duplex, paperSize } = body as PrintedCounts;
  return { printed: { pages, sheets, colorPages, duplex, paperSize } };
}

/** The options the printer was sent: those print rights left (releasedOptions), else the job's own. */
export const sentOptions = (job: JobDoc): JobOptions => job.releasedOptions ?? job.options;

/**
 * Why `counts` cannot be what a printer made of a job sent with `sent`, one entry per broken
 * rule (empty when they fit). A printer may print less than asked (mono for colour, one side
 * for two: a panel's choice or a printer without duplex) but never more, nor on other paper.
 */
export function printedCountsViolations(counts: PrintedCounts, sent: JobOptions): FieldError[] {
  const { pages, sheets, colorPages, duplex, paperSize } = counts;
  const violations: FieldError[] = [];
  const add = (field: keyof PrintedCounts, detail: string) => violations.push({ pointer: `/body/${field}`, detail });
  if (paperSize !== sent.paperSize) add('paperSize', `must be ${sent.paperSize}, the paper size the job was sent with`);
  if (colorPages > 0 && !sent.color) add('colorPages', 'must be 0: the job was sent in mono');
  if (colorPages > pages) add('colorPages', 'cannot be more than pages');
  if (duplex && !sent.duplex) add('duplex', 'cannot be true: the job was sent one-sided');
  if (pages < sent.copies) add('pages', `must be at least ${sent.copies}, one page per copy`);
  if (!duplex && sheets !== pages) add('sheets', 'must equal pages when printed one-sided');
  if (duplex && (sheets < Math.ceil(pages / 2) || sheets > pages)) {
    add('sheets', 'must be between half the pages (rounded up) and the pages when printed on both sides');
  }
  return violations;
}

/** 400 unless `counts` fit the options `job` was sent with (printedCountsViolations). */
export function checkPrintedCounts(counts: PrintedCounts, job: JobDoc): void {
  const violations = printedCountsViolations(counts, sentOptions(job));
  if (violations.length) throw invalid(violations);
}

function invalid(errors: FieldError[]): Invalid {
  const [first] = errors;
  return new Invalid(`${first!.pointer} ${first!.detail}`, { errors });
}
