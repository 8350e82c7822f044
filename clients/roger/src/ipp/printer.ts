import type { PrintOptions } from '../printing/submit.js';
import {
  GroupTag,
  Tag,
  keyword,
  type Attribute,
  type DecodedValue,
  type Group,
  type Request,
  type Response,
  operationGroup,
} from './encoding.js';
import { echo, readJobTemplate, type JobTicket } from './job-template.js';
import { JOB_TEMPLATE_NAMES, JobState, JobTable, isFinished, jobAttributes, type IppJob } from './jobs.js';
import { DocumentsInFlight, SMALL_REQUEST_BYTES } from './documents-in-flight.js';
import { Operation, Status } from './operations-supported.js';
import { DOCUMENT_FORMATS, DOCUMENT_WAIT_SECONDS, JOB_CREATION_ATTRIBUTES, printerAttributes, upTime } from './printer-attributes.js';

/**
 * The IPP printer's operations (RFC 8011 §4, PWG 5100.12, PWG 5100.14; docs/clients.md#the-ipp-printer):
 * checks common to every request, then one method per operation. Documents go to Roger through
 * `RogerQueue`, so this file knows IPP and nothing of HTTP or of the Roger API.
 */
export interface RogerQueue {
  /** Registers and uploads one document; resolves once Roger has it queued. */
  submit(document: Buffer, fileName: string, options: PrintOptions): Promise<{ readonly id: string }>;
  /** Cancels a Roger job (a job cancelled over IPP while it was still going up). */
  cancel(rogerJobId: string): Promise<void>;
}

export interface PrinterSettings {
  readonly port: number;
  readonly apiUrl: string;
  readonly queue: RogerQueue;
  /** Where job events and Identify-Printer's message go (the terminal). */
  readonly say: (line: string) => void;
  /** Why a submission failed, in one line (no token, no stack). */
  readonly explain: (error: unknown) => string;
}

/** The path of the one printer; the host part is whatever loopback name the client used. */
export const PRINTER_PATH = '/ipp/print';

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');

/** A request refused before or during its operation: the status and, maybe, the unsupported group. */
class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly unsupported: Attribute[] = [],
  ) {}
}

export class IppPrinter {
  readonly jobs = new JobTable();
  /** The documents in memory: requests bringing one (server.ts) and uploads under way. */
  readonly documents = new DocumentsInFlight();
  private readonly startedAt = new Date();

  constructor(private readonly settings: PrinterSettings) {}

  /** The answer to one request; `printerUri` is this printer's URI as the client addressed it. */
  async handle(request: Request, printerUri: string): Promise<Response> {
    const version: [number, number] = request.version[0] === 1 ? [1, 1] : [2, 0];
    const answer = (status: number, message: string, groups: Group[] = [], unsupported: Attribute[] = []): Response => ({
      version,
      statusCode: status,
      requestId: request.requestId,
      groups: [operationGroup(message), ...(unsupported.length ? [{ tag: GroupTag.unsupported, attributes: unsupported }] : []), ...groups],
    });
    try {
      const { status, message, groups, unsupported } = await this.dispatch(request, printerUri);
      return answer(status, message, groups, unsupported);
    } catch (error) {
      if (error instanceof Refusal) return answer(error.status, error.message, [], error.unsupported);
      this.settings.say(`roger printer: ${this.settings.explain(error)}`);
      return answer(Status.internalError, 'the printer failed to answer');
    }
  }

  private async dispatch(request: Request, printerUri: string): Promise<Outcome> {
    // RFC 8011 §4.1.8: this printer speaks IPP/1.1 and IPP/2.0 (and answers 2.x requests as 2.0).
    if (request.version[0] !== 1 && request.version[0] !== 2)
      throw new Refusal(Status.versionNotSupported, 'IPP versions 1.1 and 2.0 only');
    // RFC 8011 §4.1.1: request-id is 1 to 2^31-1.
    if (request.requestId < 1) throw new Refusal(Status.badRequest, 'request-id must be 1 or more');
    // RFC 8011 §4.1.4: the operation group starts with attributes-charset, then attributes-natural-language.
    const operation = request.operation;
    if (!operation || request.operationOrder[0] !== 'attributes-charset' || request.operationOrder[1] !== 'attributes-natural-language')
      throw new Refusal(Status.badRequest, 'the operation attributes must start with attributes-charset and attributes-natural-language');
    const charset = operation['attributes-charset'];
    if (typeof charset !== 'string' || charset.toLowerCase() !== 'utf-8') {
      throw new Refusal(Status.charsetNotSupported, 'attributes-charset must be utf-8', [echo('attributes-charset', charset)]);
    }
    if (request.strayGroups) throw new Refusal(Status.badRequest, 'an attribute group this operation does not have');

    const handler = this.handlers[request.operationId];
    if (!handler) throw new Refusal(Status.operationNotSupported, 'this printer does not do that operation');
    return handler(request, operation, printerUri);
  }

  private readonly handlers: Record<number, Handler> = {
    [Operation.getPrinterAttributes]: (_request, operation, printerUri) => {
      this.target(operation);
      const attributes = pick(printerAttributes(this.state(printerUri)), requested(operation, 'all'), PRINTER_GROUPS);
      return ok([{ tag: GroupTag.printer, attributes }]);
    },

    [Operation.validateJob]: (request, operation) => {
      this.target(operation);
      this.checkFormat(operation);
      return ok([], this.checkTemplate(request, operation).unsupported);
    },

    [Operation.printJob]: (request, operation, printerUri) => {
      this.target(operation);
      const format = this.checkDocument(request.document, this.checkFormat(operation));
      const { ticket, unsupported } = this.checkTemplate(request, operation);
      const job = this.newJob(operation, ticket, format, request.document.length);
      this.start(job, request.document);
      return ok([{ tag: GroupTag.job, attributes: this.jobAnswer(job, printerUri) }], unsupported);
    },

    // Create-Job, then one Send-Document with last-document true: CUPS and others print so when
    // the printer offers it. One document per job (multiple-document-jobs-supported false).
    [Operation.createJob]: (request, operation, printerUri) => {
      this.target(operation);
      if (operation['document-format'] !== undefined) this.checkFormat(operation);
      const { ticket, unsupported } = this.checkTemplate(request, operation);
      const job = this.newJob(operation, ticket, 'application/pdf', 0);
      job.state = JobState.pendingHeld;
      job.reasons = ['job-incoming'];
      job.message = 'Waiting for the document';
      delete job.processingAt;
      // multiple-operation-time-out: a job whose document never comes is not kept waiting.
      setTimeout(() => {
        if (job.state === JobState.pendingHeld) this.finish(job, JobState.aborted, ['aborted-by-system'], 'No document came');
      }, DOCUMENT_WAIT_SECONDS * 1000).unref();
      return ok([{ tag: GroupTag.job, attributes: this.jobAnswer(job, printerUri) }], unsupported);
    },

    [Operation.sendDocument]: (request, operation, printerUri) => {
      const job = this.findJob(operation);
      const last = operation['last-document'];
      if (typeof last !== 'boolean') throw new Refusal(Status.badRequest, 'last-document is missing');
      if (job.state !== JobState.pendingHeld)
        throw new Refusal(Status.notPossible, `job ${job.id} already has its document or is ${stateName(job)}`);
      if (!last) throw new Refusal(Status.multipleDocumentJobsNotSupported, 'one document per job: send it with last-document true');
      const format = this.checkDocument(request.document, this.checkFormat(operation));
      job.documentFormat = format;
      job.kOctets = Math.ceil(request.document.length / 1024);
      job.processingAt = this.now();
      this.start(job, request.document);
      return ok([{ tag: GroupTag.job, attributes: this.jobAnswer(job, printerUri) }]);
    },

    // The client has no (more) documents: a job still waiting for its only one has nothing to print.
    [Operation.closeJob]: (_request, operation, printerUri) => {
      const job = this.findJob(operation);
      if (job.state === JobState.pendingHeld) this.finish(job, JobState.aborted, ['aborted-by-system'], 'Closed without a document');
      return ok([{ tag: GroupTag.job, attributes: this.jobAnswer(job, printerUri) }]);
    },

    [Operation.getJobAttributes]: (_request, operation, printerUri) => {
      const job = this.findJob(operation);
      const attributes = pick(jobAttributes(job, printerUri, this.now().upTime), requested(operation, 'all'), JOB_GROUPS);
      return ok([{ tag: GroupTag.job, attributes }]);
    },

    [Operation.getJobs]: (_request, operation, printerUri) => {
      this.target(operation);
      const which = operation['which-jobs'] ?? 'not-completed';
      if (which !== 'completed' && which !== 'not-completed') {
        throw new Refusal(Status.attributesOrValuesNotSupported, 'which-jobs: completed or not-completed', [echo('which-jobs', which)]);
      }
      const limit = typeof operation.limit === 'number' && operation.limit > 0 ? operation.limit : Infinity;
      const ids = operation['job-ids'] === undefined ? undefined : new Set([operation['job-ids']].flat());
      const user = userName(operation);
      const wanted = requested(operation, 'job-id', 'job-uri');
      const upTimeNow = this.now().upTime;
      const groups = this.jobs
        .all()
        .filter((job) => (ids ? ids.has(job.id) : isFinished(job) === (which === 'completed')))
        .filter((job) => operation['my-jobs'] !== true || job.user === user)
        // Newest first, as most printers list them.
        .reverse()
        .slice(0, limit)
        .map((job) => ({ tag: GroupTag.job, attributes: pick(jobAttributes(job, printerUri, upTimeNow), wanted, JOB_GROUPS) }));
      return ok(groups);
    },

    [Operation.cancelJob]: (_request, operation) => {
      const job = this.findJob(operation);
      if (isFinished(job)) throw new Refusal(Status.notPossible, `job ${job.id} is already ${stateName(job)}`);
      this.cancel(job);
      return ok([]);
    },

    [Operation.cancelMyJobs]: (_request, operation) => {
      this.target(operation);
      const user = userName(operation);
      for (const job of this.jobs.all()) if (!isFinished(job) && job.user === user) this.cancel(job);
      return ok([]);
    },

    // There is no panel to light: the printer's "display" is the terminal it runs in.
    [Operation.identifyPrinter]: (_request, operation) => {
      this.target(operation);
      const actions = [operation['identify-actions'] ?? 'display'].flat();
      if (actions.some((action) => action !== 'display')) {
        throw new Refusal(Status.attributesOrValuesNotSupported, 'identify-actions: display only', [echo('identify-actions', actions)]);
      }
      const message = operation.message;
      this.settings.say(`roger printer: identify: ${typeof message === 'string' ? message : 'this is Roger'}`);
      return ok([]);
    },
  };

  /** RFC 8011 §4.2: printer operations name the printer; this one lives at PRINTER_PATH on any loopback host. */
  private target(operation: Record<string, DecodedValue>): void {
    const target = operation['printer-uri'];
    if (typeof target !== 'string') throw new Refusal(Status.badRequest, 'printer-uri is missing');
    if (pathOf(target) !== PRINTER_PATH)
      throw new Refusal(Status.notFound, `no printer at ${target}: use ipp://localhost:${this.settings.port}${PRINTER_PATH}`);
  }

  /** RFC 8011 §4.3: a job is named by printer-uri + job-id, or by job-uri. */
  private findJob(operation: Record<string, DecodedValue>): IppJob {
    let id: number | undefined;
    if (typeof operation['job-uri'] === 'string') {
      const match = new RegExp(`^${PRINTER_PATH}/(\\d+)$`).exec(pathOf(operation['job-uri']) ?? '');
      if (!match) throw new Refusal(Status.notFound, 'no such job');
      id = Number(match[1]);
    } else {
      this.target(operation);
      if (typeof operation['job-id'] !== 'number') throw new Refusal(Status.badRequest, 'job-id is missing');
      id = operation['job-id'];
    }
    const job = this.jobs.get(id);
    if (!job) throw new Refusal(Status.notFound, `no job ${id}`);
    return job;
  }

  /** document-format and compression (RFC 8011 §4.1.7, §5.4.21): PDF, or octet-stream to be sniffed; no compression. */
  private checkFormat(operation: Record<string, DecodedValue>): string {
    const declared = operation['document-format'] ?? 'application/octet-stream';
    if (typeof declared !== 'string' || !(DOCUMENT_FORMATS as readonly string[]).includes(declared)) {
      throw new Refusal(Status.documentFormatNotSupported, 'documents must be PDF (application/pdf)', [
        { name: 'document-format', values: [{ tag: Tag.mimeMediaType, value: String(declared) }] },
      ]);
    }
    const compression = operation.compression ?? 'none';
    if (compression !== 'none') {
      throw new Refusal(Status.compressionNotSupported, 'compression: none only', [keyword('compression', String(compression))]);
    }
    return declared;
  }

  /** The document itself: a PDF by its first bytes, whatever was declared. */
  private checkDocument(document: Buffer, declared: string): string {
    if (document.length === 0) throw new Refusal(Status.badRequest, 'no document');
    const isPdf = document.subarray(0, 1024).includes(PDF_MAGIC);
    // application/octet-stream: the printer finds out (RFC 8011 §5.4.21); only a PDF will do.
    if (!isPdf && declared === 'application/octet-stream') {
      throw new Refusal(Status.documentFormatNotSupported, 'the document is not a PDF, the only format Roger prints');
    }
    if (!isPdf) throw new Refusal(Status.documentFormatError, 'the document says it is a PDF but is not one');
    return 'application/pdf';
  }

  /** The job's attributes (RFC 8011 §4.1.7, §5.2): with ipp-attribute-fidelity true an unsupported one refuses the job. */
  private checkTemplate(request: Request, operation: Record<string, DecodedValue>) {
    const ticket = readJobTemplate(request.job);
    // Otherwise the job goes ahead with the defaults, and the answer says what was ignored.
    if (ticket.unsupported.length && operation['ipp-attribute-fidelity'] === true) {
      throw new Refusal(Status.attributesOrValuesNotSupported, 'attributes or values this printer does not support', ticket.unsupported);
    }
    return { ticket, unsupported: ticket.unsupported };
  }

  private newJob(operation: Record<string, DecodedValue>, ticket: JobTicket, format: string, bytes: number): IppJob {
    const now = this.now();
    return this.jobs.add({
      name: jobName(operation),
      user: userName(operation),
      documentFormat: format,
      kOctets: Math.ceil(bytes / 1024),
      ticket,
      state: JobState.processing,
      reasons: ['job-printing'],
      message: 'Sending to your OneDrive',
      createdAt: now,
      processingAt: now,
    });
  }

  private start(job: IppJob, document: Buffer): void {
    job.state = JobState.processing;
    job.reasons = ['job-printing'];
    job.message = 'Sending to your OneDrive';
    // A large one holds its place until the upload ends: the request that brought it gives its own
    // place back once answered (documents-in-flight.ts).
    const release = document.length > SMALL_REQUEST_BYTES ? this.documents.hold() : () => undefined;
    void this.submit(job, document).finally(release);
  }

  /** What Print-Job, Create-Job and Send-Document answer (RFC 8011 §4.2.1.2). */
  private jobAnswer(job: IppJob, printerUri: string): Attribute[] {
    return pick(jobAttributes(job, printerUri, this.now().upTime), new Set(JOB_ANSWER), new Set());
  }

  private async submit(job: IppJob, document: Buffer): Promise<void> {
    const { say, explain, queue } = this.settings;
    let rogerJob: { readonly id: string };
    try {
      rogerJob = await queue.submit(document, fileNameOf(job), job.ticket.options);
    } catch (error) {
      if (job.state === JobState.canceled) return say(`roger printer: job ${job.id} cancelled`);
      const why = explain(error);
      this.finish(job, JobState.aborted, ['aborted-by-system'], `Roger did not take the job: ${why}`);
      return say(`roger printer: job ${job.id} failed: ${why}`);
    }
    job.rogerJobId = rogerJob.id;
    if (job.state === JobState.canceled) {
      // Cancelled while it was going up: the Roger job must not wait at a printer.
      try {
        await queue.cancel(rogerJob.id);
        return say(`roger printer: job ${job.id} cancelled (Roger job ${rogerJob.id} deleted)`);
      } catch (error) {
        return say(
          `roger printer: job ${job.id} cancelled, but Roger job ${rogerJob.id} is still queued (${explain(error)}): roger cancel ${rogerJob.id}`,
        );
      }
    }
    this.finish(
      job,
      JobState.completed,
      ['job-completed-successfully'],
      `Queued in Roger as job ${rogerJob.id}: release it at any Roger printer`,
    );
    say(`roger printer: job ${job.id} queued in Roger as job ${rogerJob.id}`);
  }

  private cancel(job: IppJob): void {
    this.finish(job, JobState.canceled, ['job-canceled-by-user'], 'Cancelled');
  }

  private finish(job: IppJob, state: IppJob['state'], reasons: string[], message: string): void {
    job.state = state;
    job.reasons = reasons;
    job.message = message;
    job.completedAt = this.now();
  }

  private now() {
    const date = new Date();
    return { upTime: upTime({ startedAt: this.startedAt }, date), date };
  }

  private state(printerUri: string) {
    const processing = this.jobs.processing;
    return {
      printerUri,
      port: this.settings.port,
      apiUrl: this.settings.apiUrl,
      startedAt: this.startedAt,
      processingJobs: processing,
      queuedJobCount: processing,
    };
  }
}

interface Outcome {
  readonly status: number;
  readonly message: string;
  readonly groups: Group[];
  readonly unsupported: Attribute[];
}
type Handler = (request: Request, operation: Record<string, DecodedValue>, printerUri: string) => Outcome | Promise<Outcome>;

const ok = (groups: Group[], unsupported: Attribute[] = []): Outcome =>
  unsupported.length
    ? { status: Status.okIgnoredOrSubstituted, message: 'successful-ok-ignored-or-substituted-attributes', groups, unsupported }
    : { status: Status.ok, message: 'successful-ok', groups, unsupported };

/** Print-Job's answer (RFC 8011 §4.2.1.2). */
const JOB_ANSWER = ['job-id', 'job-uri', 'job-state', 'job-state-reasons', 'job-state-message'];

/** Group names a client may ask for in requested-attributes, and what they stand for. */
const PRINTER_GROUPS = new Set(['all', 'printer-description', 'job-template', 'media-col-database']);
const JOB_GROUPS = new Set(['all', 'job-description', 'job-template']);
const TEMPLATE_BASES = new Set<string>([
  ...JOB_CREATION_ATTRIBUTES,
  'media-col',
  'media-size',
  'media-source',
  'media-type',
  'media-bottom-margin',
  'media-left-margin',
  'media-right-margin',
  'media-top-margin',
]);

function requested(operation: Record<string, DecodedValue>, ...defaults: string[]): Set<string> {
  const value = operation['requested-attributes'];
  return new Set(value === undefined ? defaults : [value].flat().map(String));
}

/** The attributes a client asked for: by name, or by group (`all`, `job-template`, `job-description`, `printer-description`). */
function pick(attributes: Attribute[], wanted: Set<string>, groups: Set<string>): Attribute[] {
  if (wanted.has('all') && groups.has('all')) return attributes;
  return attributes.filter((attribute) => {
    if (wanted.has(attribute.name)) return true;
    // A Job Template attribute's printer side: its -default, -supported, -ready and -database (RFC 8011 §5.2).
    const base = attribute.name.replace(/-(default|supported|ready|database)$/, '');
    const template = JOB_TEMPLATE_NAMES.has(attribute.name) || (base !== attribute.name && TEMPLATE_BASES.has(base));
    if (wanted.has('job-template') && groups.has('job-template') && template) return true;
    if (wanted.has('job-description') && groups.has('job-description') && !JOB_TEMPLATE_NAMES.has(attribute.name)) return true;
    return wanted.has('printer-description') && groups.has('printer-description') && !template;
  });
}

function pathOf(value: string): string | undefined {
  try {
    return new URL(value).pathname;
  } catch {
    return undefined;
  }
}

const userName = (operation: Record<string, DecodedValue>) => {
  const name = operation['requesting-user-name'];
  return typeof name === 'string' && name ? name : 'anonymous';
};

const jobName = (operation: Record<string, DecodedValue>) => {
  const name = operation['job-name'] ?? operation['document-name'];
  return typeof name === 'string' && name.trim() ? name.trim() : 'Untitled';
};

/** A name Roger and OneDrive accept (none of \ / : * ? " < > | or control characters), ending in .pdf. */
export function fileNameOf(job: Pick<IppJob, 'name' | 'id'>): string {
  // eslint-disable-next-line no-control-regex
  const base = (job.name.split(/[\\/]/).pop() ?? '').replace(/[\\/:*?"<>|\u0000-\u001f\u007f]/g, ' ').trim() || `Print job ${job.id}`;
  const withExtension = /\.pdf$/i.test(base) ? base : `${base}.pdf`;
  return withExtension.length <= 255 ? withExtension : `${withExtension.slice(0, 251)}.pdf`;
}

const stateName = (job: IppJob) => ({ 7: 'canceled', 8: 'aborted', 9: 'completed' })[job.state as 7 | 8 | 9] ?? 'finished';
