import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceBusClient, type ServiceBusMessage } from '@azure/service-bus';
import { expect } from 'vitest';
import type { LocalServiceBus } from '@roger-cloud/local-service-bus';
import { releaseTopics } from '../../../shared/messaging/messaging.js';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { enrolledPrinter, freshTenant, uniqueName } from '../../../tests/helpers/fixtures.js';
import { consentToOneDrive } from '../../../tests/helpers/onedrive.js';
import type { EnrolledPrinter } from '../../../tests/helpers/printer.js';
import { api, type Person } from '../../../tests/helpers/roger.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import type { Transport } from '../src/amqp-transport.js';
import type { DeviceCredentials, SessionTokens } from '../src/contracts.js';
import { runReceiver } from '../src/receiver.js';
import { sessionIdOf } from '../src/token-claims.js';

/**
 * What the receiving tests share: a tenant whose user has connected OneDrive, an enrolled
 * printer, jobs uploaded straight to OneDrive through the API's upload session (as `roger print`
 * does), and runReceiver started in this process against the real API and the host's AMQP broker.
 */
// The tenant's admin prints like anyone: one person to hash a password for and sign in, not two.
const admin: Person = { email: 'ugo@northwind.test', username: 'ugo', fullName: 'Ugo Admin', password: 'ugo-password-12' };

export interface World {
  readonly adminToken: string;
  readonly userToken: string;
  readonly userRefresh: string;
  readonly printer: EnrolledPrinter;
}

export async function northwind(host: TestHost, ms: LocalMicrosoft): Promise<World> {
  const tenant = await freshTenant(host, 'northwind', admin);
  const userToken = tenant.admin.token;
  const { callbackUrl } = await consentToOneDrive(host, ms, userToken, `${uniqueName('ugo')}@northwind.example`);
  expect((await fetch(callbackUrl, { redirect: 'manual' })).status).toBe(200);
  return {
    adminToken: tenant.admin.token,
    userToken,
    userRefresh: tenant.admin.refresh,
    printer: await enrolledPrinter(host, tenant.admin.token, 'Floor 4'),
  };
}

/** A job whose document is in the user's OneDrive Print folder, queued: its id. */
export async function queuedJob(
  host: TestHost,
  userToken: string,
  fileName: string,
  document: Buffer,
  options?: Record<string, unknown>,
): Promise<string> {
  const created = await api(host, userToken, 'POST', '/api/jobs', { fileName, size: document.length, ...(options ? { options } : {}) });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const uploaded = await fetch(created.body.upload.url, {
    method: 'PUT',
    headers: { 'content-range': `bytes 0-${document.length - 1}/${document.length}` },
    body: document,
  });
  expect([200, 201]).toContain(uploaded.status);
  const item = (await uploaded.json()) as { id: string };
  const ready = await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`, { itemId: item.id });
  expect(ready.body.state).toBe('queued');
  return created.body.id as string;
}

export async function jobState(host: TestHost, userToken: string, jobId: string): Promise<string> {
  return (await api(host, userToken, 'GET', `/api/jobs/${jobId}`)).body.state as string;
}

/** The session id a token carries, as the release message's correlationId names it: the agent's own reading. */
export { sessionIdOf };

/** The panel side's memory of session tokens, as the CLI keeps it. */
export function sessionTokens(): SessionTokens & { add(token: string): string } {
  const tokens = new Map<string, string>();
  return {
    remember: (sessionId, accessToken) => void tokens.set(sessionId, accessToken),
    tokenFor: (sessionId) => tokens.get(sessionId),
    add(token) {
      const id = sessionIdOf(token);
      tokens.set(id, token);
      return id;
    },
  };
}

export interface Running {
  readonly lines: string[];
  readonly outputDir: string;
  readonly ledgerPath: string;
  readonly sessions: ReturnType<typeof sessionTokens>;
  /** Settles when runReceiver does: undefined when it stopped, or its error. */
  readonly done: Promise<unknown>;
  stop(): Promise<unknown>;
  /** Waits (polling) until `predicate` holds over the log lines. */
  until(predicate: (lines: string[]) => boolean, timeoutMs?: number): Promise<void>;
  files(): Promise<string[]>;
  read(file: string): Promise<Buffer>;
}

/** runReceiver in this process, with a device token that works until the printer is disconnected. */
export async function startReceiver(
  apiUrl: string,
  printer: EnrolledPrinter,
  options: {
    outputDir?: string;
    ledgerPath?: string;
    sessions?: ReturnType<typeof sessionTokens>;
    /** Called with each line as it is logged, before runReceiver goes on (to strike at an exact moment). */
    onLine?: (line: string) => void;
    /** AMQP (the default) or AMQP over WebSockets. */
    transport?: Transport;
  } = {},
): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'roger-printer-'));
  const outputDir = options.outputDir ?? join(dir, 'printed');
  const ledgerPath = options.ledgerPath ?? join(dir, 'state', 'ledger.json');
  const sessions = options.sessions ?? sessionTokens();
  const lines: string[] = [];
  const controller = new AbortController();
  const credentials: DeviceCredentials = {
    apiUrl,
    deviceId: printer.deviceId,
    accessToken: async () => printer.access,
    rejected: async () => printer.access,
  };
  const done = runReceiver({
    credentials,
    sessions,
    outputDir,
    ledgerPath,
    transport: options.transport ?? 'amqp',
    log: (line) => {
      lines.push(line);
      // ROGER_TEST_RECEIVER_LOG=1 shows what the receiver said, with times, when a test is looked into.
      if (process.env.ROGER_TEST_RECEIVER_LOG) console.log(new Date().toISOString(), line);
      options.onLine?.(line);
    },
    signal: controller.signal,
  }).then(
    () => undefined,
    (error: unknown) => error,
  );
  const running: Running = {
    lines,
    outputDir,
    ledgerPath,
    sessions,
    done,
    async stop() {
      controller.abort();
      return done;
    },
    async until(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let settled = false;
      void done.then(() => (settled = true));
      while (!predicate(lines)) {
        if (settled) throw new Error(`the receiver stopped: ${String(await done)}\n${lines.join('\n')}`);
        if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms; the receiver said:\n${lines.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async files() {
      return (await readdir(outputDir).catch(() => [])).filter((name) => !name.startsWith('.')).sort();
    },
    read: (file) => readFile(join(outputDir, file)),
  };
  await running.until((seen) => seen.includes('ready: receiving releases'));
  return running;
}

/**
 * Messages sent to the release topic with the app's own rights (the broker's `app` rule), as the
 * API sends them: for what the API would only send by mistake or in a rare race.
 */
export async function sendAsApp(host: TestHost, messages: ServiceBusMessage[], topic?: string): Promise<void> {
  const broker = await brokerOf(host);
  // By default the topic of the printer the first message names, as the API picks it.
  const to = topic ?? topicOf(broker, String(messages[0]?.applicationProperties?.printerId));
  const client = new ServiceBusClient(broker.connectionString('app'));
  try {
    await client.createSender(to).sendMessages(messages);
  } finally {
    await client.close();
  }
}

/** A release message as shared/release/plan.ts builds it. */
export function releaseMessage(fields: {
  jobId: string;
  sessionId: string;
  printerId: string;
  downloadUrl: string | null;
  fileName?: string;
}) {
  return {
    messageId: `${fields.jobId}:${fields.sessionId}`,
    correlationId: fields.sessionId,
    contentType: 'application/json',
    applicationProperties: { printerId: fields.printerId },
    body: {
      type: 'release',
      jobId: fields.jobId,
      fileName: fields.fileName ?? 'Document.pdf',
      options: { copies: 1 },
      downloadUrl: fields.downloadUrl,
      downloadUrlExpiresAt: null,
      user: { username: 'ugo' },
      releasedAt: new Date().toISOString(),
    },
  } satisfies ServiceBusMessage;
}

/** Every name a release topic can have: the one before sharding and `releases-00` … `releases-99`. */
const MOST_RELEASE_TOPICS = 100;

/**
 * The release topic the printer was given at enrollment (docs/flows.md#release-to-printers): the
 * one of the broker's topics that holds its subscription.
 */
export function topicOf(broker: LocalServiceBus, deviceId: string): string {
  const topic = releaseTopics(MOST_RELEASE_TOPICS)
    .map(({ name }) => name)
    .find((name) => broker.hasSubscription(name, deviceId));
  if (!topic) throw new Error(`printer ${deviceId} has no release subscription`);
  return topic;
}

/** Messages waiting on the printer's own subscription, on whichever topic it was given. */
export const countOn = (broker: LocalServiceBus, deviceId: string) => broker.countMessages(topicOf(broker, deviceId), deviceId);

/** The host's broker (tools/local/messaging.ts), to pause, resume and count. */
export async function brokerOf(host: TestHost): Promise<LocalServiceBus> {
  return ((await (await host.services()).messaging()) as unknown as { broker: LocalServiceBus }).broker;
}
