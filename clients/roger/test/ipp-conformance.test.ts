import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import { ipptool, startIppWorld, testResults, type IppWorld, type TestResult } from './fixtures/ipp-world.js';

/**
 * `roger printer` against CUPS's own conformance files (docs/clients.md#the-ipp-printer):
 * ipptool (Debian's cups-ipp-utils) runs the standard ipp-everywhere.test, which includes
 * ipp-2.0.test, which includes ipp-1.1.test, unchanged from /usr/share/cups/ipptool, against the
 * real program signed in to the local host. Every test passes except exactly the ones the docs
 * list as not applying to a printer that forwards PDF to the cloud, and those fail or are
 * skipped for exactly the listed reasons.
 */
const SUITE = '/usr/share/cups/ipptool';

/** The one failing test, and each of its expectations that a PDF-to-Roger printer does not meet (docs: "What ipptool checks"). */
const NOT_APPLICABLE_EXPECTATIONS = [
  // Roger prints PDF only; JPEG and PWG raster would reach printers that may not read them.
  'EXPECTED: document-format-supported WITH-VALUE "image/jpeg"',
  'EXPECTED: document-format-supported WITH-VALUE "image/pwg-raster"',
  // Not claimed, as the two formats above are missing.
  'EXPECTED: ipp-features-supported',
  // A Roger job has no page ranges and no per-page overrides.
  'EXPECTED: overrides-supported',
  'EXPECTED: overrides-supported',
  'EXPECTED: page-ranges-supported',
  // A queue in the cloud has no toner or paper of its own.
  'EXPECTED: printer-supply',
  'EXPECTED: printer-supply-description',
  'EXPECTED: printer-supply-info-uri',
  // No PWG raster.
  'EXPECTED: pwg-raster-document-resolution-supported',
  'EXPECTED: pwg-raster-document-sheet-back',
  'EXPECTED: pwg-raster-document-type-supported',
];

/** Tests skipped by the files' own conditions, because the printer does not offer what they need. */
const SKIPPED = [
  // Print-URI and Send-URI: the printer takes documents, not addresses to fetch them from.
  'RFC 8011 section 4.2.2: Print-URI Operation',
  'Print-URI with bad URI: Print-URI Operation',
  'RFC 8011 section 4.2.4: Create-Job Operation',
  'RFC 8011 section 4.3.2: Send-URI Operation',
  'Send-URI with bad URI: Create-Job Operation',
  'Send-URI with bad URI: Send-URI Operation (bad URI)',
  'Send-URI with bad URI: Cancel-Job Operation',
  // PostScript and JPEG: PDF only.
  'Print-Job with A4 PostScript',
  'Print-Job with A4 PostScript, Duplex',
  'Print-Job with US Letter PostScript',
  'Print-Job with US Letter PostScript, Duplex',
  'Print-Job with Color JPEG on A4',
  'Print-Job with Color JPEG on US Letter',
  'Print-Job with Color JPEG on 4x6',
  'Print-Job with Grayscale JPEG on A4',
  'Print-Job with Grayscale JPEG on US Letter',
  'Print-Job with Grayscale JPEG on 4x6',
  // job-sheets, number-up, print-quality other than normal: not Roger job options.
  'Print-Job with A4 PDF and Standard Sheet',
  'Print-Job with US Letter PDF and Standard Sheet',
  'Print-Job with A4 PDF and Standard Sheet',
  'Print-Job with US Letter PDF and Standard Sheet',
  'Print-Job with A4 PDF, 2-Up',
  'Print-Job with US Letter PDF, 2-Up',
  'Print-Job with A4 PDF, 2-Up',
  'Print-Job with US Letter PDF, 2-Up',
  'Print-Job with JPEG on 4x6, Draft Quality',
  'Print-Job with JPEG on 4x6, Normal Quality',
  'Print-Job with JPEG on 4x6, High Quality',
  'Print-Job with A4 PDF, Draft Quality',
  'Print-Job with US Letter PDF, Draft Quality',
  // Hold-Job and Release-Job: a Roger job is held anyway, until its owner releases it at a printer.
  'Print-Job with job-hold-until',
  'Release-Job',
];

/** ipp-everywhere.test's sample prints: PWG raster only, at six resolutions, each skipped as no raster is offered. */
const RASTER_SAMPLES = 432;

describe('roger printer passes ipptool', () => {
  let world: IppWorld;
  let suite: string;
  let results: TestResult[];

  beforeAll(async () => {
    world = await startIppWorld();
    suite = await suiteFolder();
    const run = await ipptool(['-V', '2.0', '-I', '-t', '-f', 'document.pdf', world.printerUri, 'ipp-everywhere.test'], suite);
    results = testResults(run.output);
  }, 40_000);
  afterAll(async () => {
    await world?.close();
  });

  it('ipp-1.1.test and ipp-2.0.test: every test passes, but for those their own conditions skip', () => {
    const classic = results.filter((result) => result.file === 'ipp-1.1.test' || result.file === 'ipp-2.0.test');
    expect(classic.filter((result) => result.result === 'FAIL')).toEqual([]);
    expect(classic.filter((result) => result.result === 'SKIP').map((result) => result.name)).toEqual(SKIPPED);
    const passed = classic.filter((result) => result.result === 'PASS').map((result) => result.name);
    expect(passed).toEqual(
      expect.arrayContaining([
        'RFC 8011 section 4.1.1: Bad request-id value 0',
        'RFC 8011 section 4.1.8: Unsupported IPP version 0.0',
        'RFC 8011 section 4.2.1: Print-Job Operation',
        'RFC 8011 section 4.2.3: Validate-Job Operation',
        'RFC 8011 section 4.3.3: Cancel-Job Operation (completed job)',
        'RFC 8011 section 4.3.1: Send-Document Operation',
        'Send-Document missing last-document: Send-Document Operation',
        'Print-Job with A4 PDF, Duplex',
        'Print-Job with US Letter PDF',
        'PWG 5100.12 section 6.2 - Required Printer Description Attributes',
      ]),
    );
    expect(passed).toHaveLength(35);
  });

  it('ipp-everywhere.test: its one attribute test fails on exactly the listed expectations; its raster prints are skipped', () => {
    const everywhere = results.filter((result) => result.file === 'ipp-everywhere.test');
    const [attributes, ...samples] = everywhere;
    expect(attributes?.name).toBe('PWG 5100.14 section 5.1/5.2 - Required Operations and Attributes');
    expect(attributes?.result).toBe('FAIL');
    expect(attributes!.details.filter((line) => line.startsWith('EXPECTED:'))).toEqual(NOT_APPLICABLE_EXPECTATIONS);
    expect(samples).toHaveLength(RASTER_SAMPLES);
    expect(samples.every((sample) => sample.result === 'SKIP' && /^Print .* @ \d+dpi/.test(sample.name))).toBe(true);
  });

  it("the suite's documents (seven Print-Jobs, one Send-Document) became Roger jobs of the signed-in person, with the PDF's bytes", async () => {
    // Each IPP job is done when Roger has it queued, or when it was cancelled first (ipp-1.1.test cancels one).
    const done = () => world.stderr().match(/job \d+ (queued in Roger|cancelled|failed)/g) ?? [];
    await expect.poll(() => done().length, { timeout: 15_000, interval: 100 }).toBe(8);
    expect(world.stderr()).not.toMatch(/failed/);
    const jobs = await world.jobs();
    const queued = jobs.filter((job) => job.state === 'queued');
    expect(queued).toHaveLength(done().filter((line) => line.includes('queued')).length);
    expect(jobs.every((job) => ['queued', 'cancelled'].includes(job.state))).toBe(true);
    const a4 = queued.find((job) => job.fileName === 'A4 Test Document.pdf');
    expect(a4?.options).toMatchObject({ paperSize: 'A4' });
    expect(world.ms.fileBytes(world.upn, 'Print/A4 Test Document.pdf')?.equals(await readFile(join(suite, 'document-a4.pdf')))).toBe(true);
  });
});

/**
 * The three standard files copied unchanged, with the documents they name. ipptool opens every
 * FILE while reading a test file, even for a test it then skips, so the PostScript, JPEG and PWG
 * raster files that the skipped tests name are there too, as placeholders never sent: the
 * printer does not offer those formats, and the tests that would send them are skipped by their
 * own conditions (asserted above).
 */
async function suiteFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'roger-ipptool-'));
  for (const file of ['ipp-1.1.test', 'ipp-2.0.test', 'ipp-everywhere.test']) await copyFile(join(SUITE, file), join(folder, file));
  await writeFile(join(folder, 'document.pdf'), multiPagePdf(3, 'ipptool document'));
  await writeFile(join(folder, 'document-a4.pdf'), multiPagePdf(2, 'ipptool A4'));
  await writeFile(join(folder, 'document-letter.pdf'), multiPagePdf(2, 'ipptool Letter'));
  const named = new Set<string>();
  for (const file of ['ipp-1.1.test', 'ipp-everywhere.test']) {
    for (const match of (await readFile(join(folder, file), 'utf8')).matchAll(/^\s*FILE\s+(\S+)/gm)) named.add(match[1]!);
  }
  for (const file of named) {
    if (file.startsWith('$') || file.endsWith('.pdf')) continue;
    await mkdir(dirname(join(folder, file)), { recursive: true });
    await writeFile(join(folder, file), 'placeholder: never sent, the test that names it is skipped\n');
  }
  return folder;
}
