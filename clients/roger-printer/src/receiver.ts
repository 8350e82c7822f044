import { isServiceBusError, type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';
import { backoffDelay, sleep, type Backoff } from '@roger-cloud/client-kit/backoff';
import { Unreachable, isTransient } from '@roger-cloud/client-kit/http';
import { fetchAmqpCredentials, openAmqpSession, renewAt, type AmqpCredentials, type AmqpSession } from './amqp-credentials.js';
import { parseRelease, printerIdOf, type Release } from './amqp-release.js';
import { Disconnected, type ReceiverOptions } from './contracts.js';
import { DownloadFailed, DownloadInterrupted, downloadDocument } from './download.js';
import { explain } from './explain.js';
import { figuresOf } from './figures.js';
import { Ledger, type LedgerEntry } from './ledger.js';
import { removeStalePartials, writePrintout } from './output.js';
import { reportOutcome, type Outcome, type ReportResult } from './report.js';
import { backoffFromEnv } from './retry.js';

/**
 * The receiving side of the agent (docs/clients.md#receiving-a-release): releases arrive over AMQP on
 * the printer's own subscription, each document is downloaded, "printed" into the output folder
 * and reported. The order is what makes it safe (docs/clients.md#never-twice):
 *
 *   write the file → record the job in the ledger → complete the message → report printed
 *
 * A crash or an outage before the completion leaves the message on the subscription: its lock
 * lapses, it comes back, and the ledger stops a second print. A report that did not get through
 * stays pending in the ledger and is sent again. Anything transient (the broker, the API, the
 * document's host) is waited out with backoff and jitter; only the end of the printer's
 * enrollment stops the receiver, by rejecting with Disconnected.
 */

/** Messages asked for at once, and how long one receive waits for the first of them. */
const BATCH = 8;
const RECEIVE_WAIT_MS = 3000;
/** Times a download that broke off is tried again in place (the SDK keeps the message's lock meanwhile). */
const DOWNLOAD_TRIES = 4;
/** An API call that hangs is given up after this long (and counts as the API being away). */
const API_TIMEOUT_MS = 15_000;
/**
 * A release can arrive before the panel's poll brings the session's token (the approval
 * releases at once; the panel polls every few seconds): a failure waits this long for it, a
 * printed job's report stays pending up to REPORT_PATIENCE_MS.
 */
const TOKEN_WAIT_MS = 10_000;
const REPORT_PATIENCE_MS = 60 * 60_000;
/** Attaches refused because the subscription does not exist, in a row, before the printer counts as disconnected. */
const MISSING_SUBSCRIPTION_LIMIT = 3;

export async function runReceiver(options: ReceiverOptions): Promise<void> {
  await removeStalePartials(options.outputDir);
  // The same backoff as the rest of the agent (retry.ts), test knobs included.
  const receiver = new Receiver(options, await Ledger.open(options.ledgerPath), backoffFromEnv());
  await receiver.run();
}

class Receiver {
  private attached = false;
  private reportAttempt = 0;
  private nextReportAt = 0;

  constructor(
    private readonly options: ReceiverOptions,
    private readonly ledger: Ledger,
    private readonly backoff: Backoff,
  ) {}

  private get signal() {
    return this.options.signal;
  }

  async run(): Promise<void> {
    let attempt = 0;
    let missing = 0;
    while (!this.signal.aborted) {
      let session: AmqpSession | undefined;
      try {
        let amqp = await fetchAmqpCredentials(this.options.credentials, this.apiSignal());
        session = openAmqpSession(amqp, this.options.transport);
        let renewal = renewAt(amqp);
        let first = true;
        while (!this.signal.aborted) {
          // The first receive attaches the link: a short wait, then say so.
          const receiver = session.receiver;
          const messages = await withOwnSignal(this.signal, (abortSignal) =>
            receiver.receiveMessages(BATCH, { maxWaitTimeInMs: first ? 1 : RECEIVE_WAIT_MS, abortSignal }),
          );
          if (first) {
            first = false;
            attempt = 0;
            missing = 0;
            const over = this.options.transport === 'websockets' ? ' (AMQP over WebSockets)' : '';
            this.options.log(`${this.attached ? 'reconnected' : 'ready'}: receiving releases${over}`);
            this.attached = true;
          }
          await this.handleBatch(session.receiver, messages);
          await this.sendPendingReports();
          if (Date.now() >= renewal) {
            const renewed = await this.renew(session, amqp);
            if (renewed) ({ session, amqp } = renewed);
            renewal = renewed ? renewAt(amqp) : Date.now() + backoffDelay(attempt++, this.backoff);
          }
        }
      } catch (error) {
        if (this.signal.aborted) break;
        if (error instanceof Disconnected) throw error;
        if (subscriptionMissing(error) && ++missing >= MISSING_SUBSCRIPTION_LIMIT) {
          throw new Disconnected('its release subscription no longer exists');
        }
        const delay = backoffDelay(attempt++, this.backoff);
        this.options.log(
          `connection lost: ${explain(error)}; trying again in ${delay < 1000 ? `${delay} ms` : `${(delay / 1000).toFixed(1)} s`}`,
        );
        await session?.close();
        session = undefined;
        await this.sendPendingReports().catch(() => undefined);
        await sleep(delay, this.signal);
      } finally {
        await session?.close();
      }
    }
  }

  /**
   * A new token before the old one expires: a new connection with it, then the old one closed
   * (between batches, so no message is held by it). While the API cannot give one, the current
   * connection goes on until its token runs out.
   */
  private async renew(session: AmqpSession, amqp: AmqpCredentials): Promise<{ session: AmqpSession; amqp: AmqpCredentials } | undefined> {
    let fresh: AmqpCredentials;
    try {
      fresh = await fetchAmqpCredentials(this.options.credentials, this.apiSignal());
    } catch (error) {
      if (error instanceof Disconnected || this.signal.aborted) throw error;
      if (Date.parse(amqp.expiresOn) <= Date.now()) throw error;
      return undefined;
    }
    const next = openAmqpSession(fresh, this.options.transport);
    await session.close();
    return { session: next, amqp: fresh };
  }

  /**
   * One message after another. When one cannot be finished (the API or the broker went away),
   * it and the rest of the batch are abandoned, so they come back as soon as the receiver is
   * connected again instead of when their locks lapse; if the broker is gone the abandon fails
   * too, and the locks lapse (the ledger stops a second print either way).
   */
  private async handleBatch(receiver: ServiceBusReceiver, messages: ServiceBusReceivedMessage[]): Promise<void> {
    for (const [index, message] of messages.entries()) {
      try {
        await this.handle(receiver, message);
      } catch (error) {
        for (const unfinished of messages.slice(index)) await receiver.abandonMessage(unfinished).catch(() => undefined);
        throw error;
      }
    }
  }

  private async handle(receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage): Promise<void> {
    const { credentials, log } = this.options;
    if (printerIdOf(message) !== credentials.deviceId) {
      // The subscription's filter should make this impossible; if a rule was widened by
      // mistake, another printer's document must still not come out of this one.
      await receiver.deadLetterMessage(message, {
        deadLetterReason: 'WrongPrinter',
        deadLetterErrorDescription: 'addressed to another printer',
      });
      log('skipped message: for another printer');
      return;
    }
    const release = parseRelease(message);
    if (!release) {
      await receiver.deadLetterMessage(message, { deadLetterReason: 'NotARelease', deadLetterErrorDescription: 'not a release message' });
      log('skipped message: not a release');
      return;
    }
    const printed = this.ledger.get(release.jobId);
    if (printed) {
      await receiver.completeMessage(message);
      log(`skipped ${release.jobId}: already printed`);
      if (!printed.reported) await this.report(printed).catch(() => undefined);
      return;
    }

    let bytes: Uint8Array;
    try {
      bytes = await this.download(release);
    } catch (error) {
      if (!(error instanceof DownloadFailed)) throw error;
      // Told first, completed after: if the API cannot be told now, the message comes back and
      // the failure is reported then (a failed job is releasable again, so it must be known).
      await this.tell(release, { failed: error.reason });
      await receiver.completeMessage(message);
      log(`failed ${release.jobId}: ${error.reason}`);
      return;
    }
    let path: string;
    try {
      path = await writePrintout(this.options.outputDir, release.jobId, release.fileName, bytes);
    } catch (error) {
      if (this.signal.aborted) throw error;
      // The printer itself cannot print (the folder is not writable, the disk is full). Retried,
      // the message would only come back until the broker dead-letters it, and the job would sit
      // `released` with no one told: it is reported failed, so its owner can release it again.
      await this.tell(release, { failed: 'printer-error' });
      await receiver.completeMessage(message);
      log(`failed ${release.jobId}: printer-error (cannot write the output: ${explain(error)})`);
      return;
    }
    const figures = figuresOf(bytes, release.options);
    const entry: LedgerEntry = {
      jobId: release.jobId,
      sessionId: release.sessionId,
      printedAt: new Date().toISOString(),
      ...(release.userId ? { userId: release.userId } : {}),
      ...(figures ? { figures } : {}),
      reported: false,
    };
    await this.ledger.add(entry);
    // The line ends with the path: whoever watches the agent (a test, a script) reads the file from it.
    log(`printed ${release.jobId} → ${path}`);
    await receiver.completeMessage(message);
    await this.report(entry).catch(() => undefined);
  }

  /** The document, tried again in place a few times when it broke off; still failing, the release is reported failed. */
  private async download(release: Release): Promise<Uint8Array> {
    if (!release.downloadUrl) throw new DownloadFailed('document-missing', 'the release carries no document');
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await downloadDocument(release.downloadUrl, release.fileName, this.signal);
      } catch (error) {
        if (!(error instanceof DownloadInterrupted) || this.signal.aborted) throw error;
        if (attempt + 1 >= DOWNLOAD_TRIES) throw new DownloadFailed('download-failed', error.message);
        await sleep(backoffDelay(attempt, this.backoff), this.signal);
      }
    }
  }

  /** Reports a failure; throws when the API is away (transient), so the message is not completed. */
  private async tell(release: Release, outcome: Outcome): Promise<ReportResult> {
    // Knowing the owner, the device token can tell at once; without, the session's token is waited for.
    const token = release.userId ? this.options.sessions.tokenFor(release.sessionId) : await this.tokenFor(release.sessionId);
    const reporter = { credentials: this.options.credentials, sessionToken: token, userId: release.userId };
    const result = await reportOutcome(reporter, release.jobId, outcome, this.apiSignal()).catch((error: unknown) => {
      throw this.asApiError(error);
    });
    if (result !== 'reported') this.options.log(`not reported ${release.jobId}: ${notReported(result)}`);
    return result;
  }

  /** The session's token, waited for a little while the panel's poll may still bring it. */
  private async tokenFor(sessionId: string): Promise<string | undefined> {
    const deadline = Date.now() + TOKEN_WAIT_MS;
    for (;;) {
      const token = this.options.sessions.tokenFor(sessionId);
      if (token || Date.now() >= deadline || this.signal.aborted) return token;
      await sleep(100, this.signal);
    }
  }

  /** Reports a printed job from the ledger; marks it done once the API has it or can no longer be told. */
  private async report(entry: LedgerEntry): Promise<void> {
    const reporter = {
      credentials: this.options.credentials,
      sessionToken: this.options.sessions.tokenFor(entry.sessionId),
      userId: entry.userId,
    };
    const outcome = { printed: true as const, ...(entry.figures ? { figures: entry.figures } : {}) };
    let result: ReportResult;
    try {
      result = await reportOutcome(reporter, entry.jobId, outcome, this.apiSignal());
    } catch (error) {
      const reason = this.asApiError(error);
      if (!isTransient(reason)) this.options.log(`not reported ${entry.jobId}: ${explain(reason)}`);
      // Transient: tried again later. Anything else will not get better; kept for a retry too,
      // but spaced out by the same backoff.
      this.nextReportAt = Date.now() + backoffDelay(this.reportAttempt++, this.backoff);
      throw reason;
    }
    this.reportAttempt = 0;
    if (result === 'no-token' && Date.now() - Date.parse(entry.printedAt) < REPORT_PATIENCE_MS) return;
    if (result !== 'reported') this.options.log(`not reported ${entry.jobId}: ${notReported(result)}`);
    await this.ledger.markReported(entry.jobId);
  }

  /** Printed jobs the API has not acknowledged yet, one after another while it answers. */
  private async sendPendingReports(): Promise<void> {
    if (Date.now() < this.nextReportAt) return;
    for (const entry of this.ledger.unreported()) {
      try {
        await this.report(entry);
      } catch {
        return;
      }
    }
  }

  /** An abort of ours for a hanging call (not the agent stopping) means the API is away: Unreachable. */
  private asApiError(error: unknown): unknown {
    if (this.signal.aborted || !(error instanceof Error) || (error.name !== 'TimeoutError' && error.name !== 'AbortError')) return error;
    return new Unreachable(this.options.credentials.apiUrl, new Error(`no answer within ${API_TIMEOUT_MS / 1000} s`));
  }

  private apiSignal(): AbortSignal {
    return AbortSignal.any([this.signal, AbortSignal.timeout(API_TIMEOUT_MS)]);
  }
}

const notReported = (result: Exclude<ReportResult, 'reported'>) =>
  result === 'no-token' ? 'no sign-in at the panel for the session that released it' : 'the session that released it has ended';

/** The broker says the subscription is not there: deleted with the printer, or never made. */
function subscriptionMissing(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(subscriptionMissing);
  return isServiceBusError(error) && error.code === 'MessagingEntityNotFound';
}

/**
 * `work` with an AbortSignal of its own, aborted when `signal` is, and unhooked from `signal`
 * when `work` ends. @azure/service-bus 7.9 leaves an abort listener on the signal it is given
 * at every receive that drains its credit (tryDrainReceiver removes it only on a timeout or an
 * abort): given the agent's stop signal, which lives as long as the agent, one was left every
 * few seconds, for ever (Node's MaxListenersExceededWarning after ten). Left on a signal of one
 * call, it goes with that signal.
 */
async function withOwnSignal<T>(signal: AbortSignal, work: (own: AbortSignal) => Promise<T>): Promise<T> {
  const own = new AbortController();
  const abort = () => own.abort(signal.reason);
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  try {
    return await work(own.signal);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}
