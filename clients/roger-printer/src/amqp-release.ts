import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { printOptionsOf, type PrintOptions } from './figures.js';

/**
 * A release message as the API sends it (docs/flows.md#release-to-printers): the body says which
 * job and where its document is, `applicationProperties.printerId` which printer it is for, and
 * `correlationId` which session released it (whose token reports the outcome).
 */
export interface Release {
  readonly jobId: string;
  readonly fileName: string;
  /** Null for a job registered without OneDrive: there is no document to fetch. */
  readonly downloadUrl: string | null;
  readonly sessionId: string;
  /** What to print with (print rights applied); undefined when the message's options are not whole. */
  readonly options?: PrintOptions;
  /**
   * The job's owner, an opaque id: once the session's token is gone, the agent reports with its
   * own device token and `?user=` this id (docs/clients.md#receiving-a-release).
   */
  readonly userId?: string;
}

/** The release in `message`, or undefined when it is not one (the message is dead-lettered, not guessed at). */
export function parseRelease(message: ServiceBusReceivedMessage): Release | undefined {
  const body = message.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || body.type !== 'release') return undefined;
  // The body also names the person (`user.username`): personal data the printer needs for
  // nothing, so it is not read; only their opaque id, which reports need (docs/clients.md#receiving-a-release).
  const { jobId, fileName, downloadUrl, options, user } = body;
  const userId = user && typeof user === 'object' ? (user as Record<string, unknown>).id : undefined;
  const printOptions = printOptionsOf(options);
  if (typeof jobId !== 'string' || !jobId || typeof fileName !== 'string') return undefined;
  if (downloadUrl !== null && typeof downloadUrl !== 'string') return undefined;
  return {
    jobId,
    fileName,
    downloadUrl,
    sessionId: typeof message.correlationId === 'string' ? message.correlationId : String(message.correlationId ?? ''),
    ...(printOptions ? { options: printOptions } : {}),
    ...(typeof userId === 'string' && /^[0-9a-f]{32}$/.test(userId) ? { userId } : {}),
  };
}

/** The printer a message is addressed to; the subscription's filter should only let this printer's through. */
export const printerIdOf = (message: ServiceBusReceivedMessage): unknown => message.applicationProperties?.printerId;
