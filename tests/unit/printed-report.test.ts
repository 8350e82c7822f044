import { describe, expect, it } from 'vitest';
import { Invalid } from '../../shared/errors.js';
import { defaultJobOptions, newJob, type JobOptions, type PrintedCounts } from '../../shared/jobs/jobs.js';
import { checkPrintedCounts, printedCountsViolations, printReportOf, sentOptions } from '../../shared/jobs/printed-report.js';

/**
 * The printed report's rules (shared/jobs/printed-report.ts; docs/flows.md#what-was-printed)
 * without a store: the body's shape, and figures that fit the options the printer was sent. Each
 * rule has a case that passes only while the rule holds, beside one the rule must let through.
 */
const colourDuplex: JobOptions = { copies: 2, duplex: true, color: true, paperSize: 'A4' };
const monoSimplex: JobOptions = { copies: 1, duplex: false, color: false, paperSize: 'A4' };
const fits: PrintedCounts = { pages: 6, sheets: 3, colorPages: 4, duplex: true, paperSize: 'A4' };

/** The fields `counts` break for `sent`, in order. */
const broken = (counts: Partial<PrintedCounts>, sent: JobOptions = colourDuplex) =>
  printedCountsViolations({ ...fits, ...counts }, sent).map((violation) => violation.pointer);

describe('printReportOf: the body’s shape', () => {
  it('no body, or {}, is a report without figures (an agent that counts nothing)', () => {
    expect(printReportOf(undefined)).toEqual({});
    expect(printReportOf({})).toEqual({});
  });

  it('all five figures are the printed figures', () => {
    expect(printReportOf({ ...fits })).toEqual({ printed: fits });
  });

  it('`failed` alone is a failure', () => {
    expect(printReportOf({ failed: 'paper-jam' })).toEqual({ failed: 'paper-jam' });
  });

  it('some figures but not all: each missing one is named', () => {
    const error = catchInvalid(() => printReportOf({ pages: 2, sheets: 2 }));
    expect(error.facts.errors?.map((e) => e.pointer)).toEqual(['/body/colorPages', '/body/duplex', '/body/paperSize']);
  });

  it('figures beside `failed`: each figure is named', () => {
    const error = catchInvalid(() => printReportOf({ failed: 'paper-jam', pages: 2 }));
    expect(error.facts.errors).toEqual([{ pointer: '/body/pages', detail: 'is not allowed with `failed`' }]);
  });
});

describe('printedCountsViolations: figures against the options sent', () => {
  it('figures that fit break nothing (duplex colour, and mono one-sided)', () => {
    expect(broken({})).toEqual([]);
    expect(broken({ pages: 3, sheets: 3, colorPages: 0, duplex: false }, monoSimplex)).toEqual([]);
  });

  it('paper size: the one the job was sent with', () => {
    expect(broken({ paperSize: 'Letter' })).toEqual(['/body/paperSize']);
  });

  it('colour pages: none from a job sent in mono; a colour job may come out mono', () => {
    expect(broken({ colorPages: 1 }, { ...colourDuplex, color: false })).toEqual(['/body/colorPages']);
    expect(broken({ colorPages: 0 })).toEqual([]);
  });

  it('colour pages: no more than the pages', () => {
    expect(broken({ colorPages: 7 })).toEqual(['/body/colorPages']);
    expect(broken({ colorPages: 6 })).toEqual([]);
  });

  it('duplex: only when it was asked; a duplex job may come out one-sided', () => {
    expect(broken({}, { ...colourDuplex, duplex: false })).toEqual(['/body/duplex']);
    expect(broken({ duplex: false, sheets: 6 })).toEqual([]);
  });

  it('one-sided: as many sheets as pages', () => {
    expect(broken({ duplex: false, sheets: 3 })).toEqual(['/body/sheets']);
    expect(broken({ duplex: false, sheets: 7 })).toEqual(['/body/sheets']);
  });

  it('both sides: from half the pages (rounded up) to the pages', () => {
    expect(broken({ pages: 5, sheets: 2, colorPages: 0 })).toEqual(['/body/sheets']);
    expect(broken({ pages: 5, sheets: 3, colorPages: 0 })).toEqual([]);
    expect(broken({ pages: 5, sheets: 5, colorPages: 0 })).toEqual([]);
    expect(broken({ pages: 5, sheets: 6, colorPages: 0 })).toEqual(['/body/sheets']);
  });

  it('at least one page per copy', () => {
    expect(broken({ pages: 1, sheets: 1, colorPages: 0 })).toEqual(['/body/pages']);
    expect(broken({ pages: 2, sheets: 1, colorPages: 0 })).toEqual([]);
  });

  it('every broken rule is named, each with why', () => {
    const violations = printedCountsViolations({ pages: 1, sheets: 1, colorPages: 2, duplex: true, paperSize: 'A3' }, monoSimplex);
    expect(violations.map((violation) => violation.pointer)).toEqual([
      '/body/paperSize',
      '/body/colorPages',
      '/body/colorPages',
      '/body/duplex',
    ]);
    for (const violation of violations) expect(violation.detail).toMatch(/\w/);
  });
});

describe('checkPrintedCounts: against what the printer was sent', () => {
  const owner = { tenantId: 't1', userId: 'u1', email: 'uma@example.com', username: 'uma' };
  const job = newJob('j1', owner, 1, { fileName: 'Report.pdf', size: 10, options: colourDuplex }, undefined, new Date());

  it('the job’s options, unless print rights changed them (releasedOptions)', () => {
    expect(sentOptions(job)).toEqual(colourDuplex);
    const downgraded = { ...job, releasedOptions: { ...colourDuplex, color: false } };
    expect(sentOptions(downgraded)).toEqual({ ...colourDuplex, color: false });
    expect(() => checkPrintedCounts(fits, job)).not.toThrow();
    // Sent mono by print rights: colour pages cannot have come out.
    const error = catchInvalid(() => checkPrintedCounts(fits, downgraded));
    expect(error.facts.errors?.map((e) => e.pointer)).toEqual(['/body/colorPages']);
    expect(error.detail).toMatch(/^\/body\/colorPages /);
  });

  it('defaults apply to a job registered without options', () => {
    const plain = newJob('j2', owner, 1, { fileName: 'Plain.pdf', size: 10 }, undefined, new Date());
    expect(sentOptions(plain)).toEqual(defaultJobOptions);
  });
});

function catchInvalid(work: () => unknown): Invalid {
  try {
    work();
  } catch (error) {
    if (error instanceof Invalid) return error;
    throw error;
  }
  throw new Error('expected a 400 (Invalid)');
}
