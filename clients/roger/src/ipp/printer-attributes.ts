import { createHash } from 'node:crypto';
import {
  boolean,
  collection,
  dateTime,
  enums,
  integer,
  keyword,
  nameAttr,
  outOfBand,
  range,
  resolution,
  strings,
  Tag,
  text,
  uri,
  type Attribute,
} from './encoding.js';
import { ICON_PATH } from './icon.js';
import { DEFAULT_MEDIUM, MARGIN, MEDIA, MEDIA_SOURCE, MEDIA_TYPE, type Medium } from './media.js';
import { OPERATIONS } from './operations-supported.js';

/**
 * What `roger printer` says about itself in Get-Printer-Attributes (docs/clients.md#the-ipp-printer).
 * The defaults mirror a Roger job's (two-sided, black and white, A4, one copy), so a print dialog
 * shows what Roger would do anyway; only what a Roger job can carry is offered.
 */
export const DOCUMENT_FORMATS = ['application/pdf', 'application/octet-stream'] as const;
export const SIDES = ['one-sided', 'two-sided-long-edge'] as const;
export const COLOR_MODES = ['monochrome', 'color'] as const;
export const MAX_COPIES = 999;
/** Job Template attributes a job may carry (job-creation-attributes-supported). */
export const JOB_CREATION_ATTRIBUTES = [
  'copies',
  'finishings',
  'media',
  'media-col',
  'orientation-requested',
  'output-bin',
  'print-color-mode',
  'print-content-optimize',
  'print-quality',
  'print-rendering-intent',
  'printer-resolution',
  'sides',
] as const;
export const MEDIA_COL_MEMBERS = [
  'media-bottom-margin',
  'media-left-margin',
  'media-right-margin',
  'media-size',
  'media-source',
  'media-top-margin',
  'media-type',
] as const;
/** multiple-operation-time-out: how long a job made by Create-Job waits for its Send-Document. */
export const DOCUMENT_WAIT_SECONDS = 60;
/** Bigger documents are refused with client-error-request-entity-too-large: they are held in memory. */
export const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

export interface PrinterState {
  /** As the client addressed it: ipp://localhost:8631/ipp/print, ipp://127.0.0.1:8631/ipp/print, … */
  readonly printerUri: string;
  readonly port: number;
  /** The signed-in user's Roger API (printer-more-info points to its web app). */
  readonly apiUrl: string;
  readonly startedAt: Date;
  readonly processingJobs: number;
  readonly queuedJobCount: number;
}

export function mediaCol(medium: Medium): Attribute[] {
  return [
    collection('media-size', [integer('x-dimension', medium.width), integer('y-dimension', medium.length)]),
    integer('media-bottom-margin', MARGIN),
    integer('media-left-margin', MARGIN),
    integer('media-right-margin', MARGIN),
    integer('media-top-margin', MARGIN),
    keyword('media-source', MEDIA_SOURCE),
    keyword('media-type', MEDIA_TYPE),
  ];
}

/** Seconds since the printer started, at least 1 (RFC 8011 §5.4.29: printer-up-time is > 0). */
export const upTime = (state: Pick<PrinterState, 'startedAt'>, at = new Date()) =>
  Math.max(1, Math.floor((at.getTime() - state.startedAt.getTime()) / 1000) + 1);

/** Every printer attribute, in the order a person reading `ipptool -v` output would look for them. */
export function printerAttributes(state: PrinterState): Attribute[] {
  const uuid = stableUuid(`${state.apiUrl} ${state.port}`);
  return [
    // Identity and state (RFC 8011 §5.4).
    uri('printer-uri-supported', state.printerUri),
    keyword('uri-authentication-supported', 'none'),
    keyword('uri-security-supported', 'none'),
    nameAttr('printer-name', 'Roger'),
    text('printer-info', 'Roger: prints through your OneDrive to any Roger printer'),
    text('printer-location', 'This computer (release the job at a Roger printer)'),
    text('printer-make-and-model', 'Roger Cloud Print'),
    uri('printer-more-info', `${state.apiUrl}/app/`),
    text('printer-device-id', 'MFG:Roger;MDL:Cloud Print;CMD:PDF;CLS:PRINTER;'),
    uri('printer-uuid', uuid),
    // Served by the printer itself, at the host the client used.
    uri('printer-icons', `${state.printerUri.replace(/^ipp:/, 'http:').replace(/\/ipp\/print$/, '')}${ICON_PATH}`),
    text('printer-organization', ''),
    text('printer-organizational-unit', ''),
    outOfBand('printer-geo-location', Tag.unknown),
    enums('printer-state', state.processingJobs > 0 ? 4 : 3),
    keyword('printer-state-reasons', 'none'),
    boolean('printer-is-accepting-jobs', true),
    integer('queued-job-count', state.queuedJobCount),
    integer('printer-up-time', upTime(state)),
    dateTime('printer-current-time', new Date()),
    integer('printer-config-change-time', 1),
    dateTime('printer-config-change-date-time', state.startedAt),
    integer('printer-state-change-time', 1),
    dateTime('printer-state-change-date-time', state.startedAt),
    keyword('ipp-versions-supported', '1.1', '2.0'),
    enums('operations-supported', ...OPERATIONS.map((operation) => operation.id)),
    strings('charset-configured', Tag.charset, 'utf-8'),
    strings('charset-supported', Tag.charset, 'utf-8'),
    strings('natural-language-configured', Tag.naturalLanguage, 'en'),
    strings('generated-natural-language-supported', Tag.naturalLanguage, 'en'),
    strings('document-format-default', Tag.mimeMediaType, 'application/pdf'),
    strings('document-format-supported', Tag.mimeMediaType, ...DOCUMENT_FORMATS),
    keyword('compression-supported', 'none'),
    keyword('pdl-override-supported', 'attempted'),
    range('job-k-octets-supported', 0, Math.floor(MAX_DOCUMENT_BYTES / 1024)),
    boolean('multiple-document-jobs-supported', false),
    keyword('which-jobs-supported', 'completed', 'not-completed'),
    boolean('job-ids-supported', true),
    boolean('preferred-attributes-supported', false),
    keyword('printer-get-attributes-supported', 'document-format'),
    keyword('job-creation-attributes-supported', ...JOB_CREATION_ATTRIBUTES),
    // Its "speed" is the upload's, not paper's; clients only show it.
    integer('pages-per-minute', 60),
    integer('pages-per-minute-color', 60),
    boolean('color-supported', true),
    // Job Template attributes (RFC 8011 §5.2, PWG 5100.12, PWG 5100.14).
    integer('copies-default', 1),
    range('copies-supported', 1, MAX_COPIES),
    enums('finishings-default', 3),
    enums('finishings-supported', 3),
    keyword('media-default', DEFAULT_MEDIUM.name),
    keyword('media-supported', ...MEDIA.map((medium) => medium.name)),
    keyword('media-ready', ...MEDIA.map((medium) => medium.name)),
    collection('media-col-default', mediaCol(DEFAULT_MEDIUM)),
    collection('media-col-ready', ...MEDIA.map(mediaCol)),
    collection('media-col-database', ...MEDIA.map(mediaCol)),
    keyword('media-col-supported', ...MEDIA_COL_MEMBERS),
    collection('media-size-supported', ...MEDIA.map((m) => [integer('x-dimension', m.width), integer('y-dimension', m.length)])),
    integer('media-bottom-margin-supported', MARGIN),
    integer('media-left-margin-supported', MARGIN),
    integer('media-right-margin-supported', MARGIN),
    integer('media-top-margin-supported', MARGIN),
    keyword('media-source-supported', MEDIA_SOURCE),
    keyword('media-type-supported', MEDIA_TYPE),
    // A PDF page carries its own orientation; the value is accepted and the page's wins.
    outOfBand('orientation-requested-default', Tag.noValue),
    enums('orientation-requested-supported', 3, 4, 5, 6),
    keyword('output-bin-default', 'face-down'),
    keyword('output-bin-supported', 'face-down'),
    enums('print-quality-default', 4),
    enums('print-quality-supported', 4),
    resolution('printer-resolution-default', 600),
    resolution('printer-resolution-supported', 600),
    keyword('sides-default', 'two-sided-long-edge'),
    keyword('sides-supported', ...SIDES),
    keyword('print-color-mode-default', 'monochrome'),
    keyword('print-color-mode-supported', ...COLOR_MODES),
    keyword('print-content-optimize-default', 'auto'),
    keyword('print-content-optimize-supported', 'auto'),
    keyword('print-rendering-intent-default', 'auto'),
    keyword('print-rendering-intent-supported', 'auto'),
    integer('multiple-operation-time-out', DOCUMENT_WAIT_SECONDS),
    keyword('multiple-operation-time-out-action', 'abort-job'),
    keyword('identify-actions-default', 'display'),
    keyword('identify-actions-supported', 'display'),
  ];
}

/** The same printer-uuid at every start for the same API and port, so clients do not see a new printer each time. */
function stableUuid(seed: string): string {
  const hex = createHash('sha256').update(`roger printer ${seed}`).digest('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
