import type { ServiceBusClient, ServiceBusReceivedMessage } from '@azure/service-bus';
import type { Messaging } from '../../shared/messaging/messaging.js';
import { userCodeMissRule } from '../../shared/oauth/approval.js';
import { forgetCounts } from '../../shared/rate-limit.js';
import { allLoginRecords } from '../../shared/users/login-records.js';
import type { LoginRecord, UserDoc } from '../../shared/users/users.js';
import type { JobDoc } from '../../shared/jobs/jobs.js';
import { jobPartition } from '../../shared/jobs/jobs.js';
import type { LocalServiceBus } from '../../tools/service-bus/broker.js';
import { amqpCredentials, printerClient, receiveReleases, type AmqpCredentials } from '../helpers/printer.js';
import { tokenRequest as postToken } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, string>;
}

/** One raw POST /oauth/token; status and body only, so whole answers compare with toEqual. */
export async function tokenRequest(host: TestHost, fields: Record<string, string>, bearer?: string): Promise<TokenAnswer> {
  const { status, body } = await postToken(host, fields, bearer);
  return { status, body };
}

/** Tools for the race suite: concurrent requests over real sockets, and what the store and printer saw. */

export const refreshWith = (host: TestHost, clientId: string, refreshToken: string) =>
  tokenRequest(host, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });

export const pollDeviceCode = (host: TestHost, clientId: string, deviceCode: string) =>
  tokenRequest(host, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: clientId, device_code: deviceCode });

/** A PIN typed at a printer's panel (password grant from roger-emb with the printer's token). */
export const pinAttempt = (host: TestHost, printerAccess: string, username: string, pin: string, scope = 'jobs:submit') =>
  tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username, password: pin, scope }, printerAccess);

/** RFC 8628 §3.1 from a client (a printer's session needs its Bearer device token). */
export async function deviceAuthorization(host: TestHost, clientId: string, scope: string, bearer?: string) {
  const response = await fetch(`${host.url}/oauth/device_authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: new URLSearchParams({ client_id: clientId, scope }).toString(),
  });
  if (response.status !== 200) throw new Error(`device_authorization: ${response.status} ${await response.text()}`);
  return (await response.json()) as { device_code: string; user_code: string };
}

/** `n` copies of one request fired at once; the answers in firing order. */
export const together = <T>(n: number, request: (index: number) => Promise<T>): Promise<T[]> =>
  Promise.all(Array.from({ length: n }, (_, index) => request(index)));

/** How many answers had each status, e.g. `{ 200: 1, 409: 3 }`. */
export function statusCounts(answers: readonly { status: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** The claims of a JWT, unverified (the server verified it; the test only reads who it names). */
export const jwtClaims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

/** `rt1.<u|d>.<tenant>.<owner>.<family>.<secret>` → the family id. */
export const familyOf = (refreshToken: string) => refreshToken.split('.')[4]!;

export async function readUserDoc(host: TestHost, tenantId: string, userId: string): Promise<UserDoc> {
  const { store } = await host.services();
  const { resource } = await store.container('accounts').item(userId, tenantId).read<UserDoc>();
  if (!resource) throw new Error(`no user ${userId}`);
  return resource;
}

/**
 * The user's sign-ins, oldest first: their login records (shared/users/login-records.ts) and any
 * array stored inside the user before those. Two records of one millisecond put a success first
 * (their true order is not stored; a success then a failure is the order that cannot mislead a
 * lockout replay into a false alarm).
 */
export async function readLogins(host: TestHost, tenantId: string, userId: string): Promise<LoginRecord[]> {
  const { store } = await host.services();
  const { resource: user } = await store.container('accounts').item(userId, tenantId).read<UserDoc>();
  const records = await allLoginRecords(store, tenantId, userId);
  return [
    ...(user?.logins ?? []),
    ...records.map(({ at, clientId, success, method, ip }) => ({ at, clientId, success, method, ...(ip ? { ip } : {}) })),
  ].sort((a, b) => a.at.localeCompare(b.at) || Number(b.success) - Number(a.success));
}

export async function readJobDoc(host: TestHost, tenantId: string, userId: string, jobId: string): Promise<JobDoc> {
  const { store } = await host.services();
  const { resource } = await store.container('jobs').item(jobId, jobPartition(tenantId, userId)).read<JobDoc>();
  if (!resource) throw new Error(`no job ${jobId}`);
  return resource;
}

/**
 * Forgets a caller's wrong-user-code counter. A losing duplicate approval reads an answered
 * code, which counts as a miss toward the guessing limit (10 per 10 minutes, tested in
 * oauth-security); the races repeat duplicates on purpose, so each round starts from zero.
 */
export async function forgetUserCodeMisses(host: TestHost, key: string): Promise<void> {
  const { store, now } = await host.services();
  await forgetCounts(store, key, userCodeMissRule, now());
}

export async function localBroker(host: TestHost): Promise<LocalServiceBus> {
  return ((await (await host.services()).messaging()) as Messaging & { broker: LocalServiceBus }).broker;
}

/**
 * A printer's side of the topic, as the real printer has it: AMQP through the Service Bus SDK
 * with only the SAS token the API gave it. `take(n)` receives (and completes) up to n messages;
 * `waiting()` asks the broker how many are still there, so "exactly n" needs no long wait.
 */
export class PrinterInbox {
  private constructor(
    private readonly client: ServiceBusClient,
    private readonly credentials: AmqpCredentials,
    private readonly broker: LocalServiceBus,
    readonly deviceId: string,
  ) {}

  static async open(host: TestHost, printer: { access: string; deviceId: string }): Promise<PrinterInbox> {
    const credentials = await amqpCredentials(host, printer.access);
    return new PrinterInbox(printerClient(credentials), credentials, await localBroker(host), printer.deviceId);
  }

  async take(count: number, maxWaitTimeInMs = 1500): Promise<ServiceBusReceivedMessage[]> {
    if (count === 0) return [];
    return receiveReleases(this.client, this.credentials.entityPath, count, maxWaitTimeInMs);
  }

  waiting(): number {
    return this.broker.countMessages(this.credentials.entityPath.split('/')[0]!, this.deviceId).active;
  }

  /** Everything there is now: what the broker holds, received over AMQP. */
  async drain(): Promise<ServiceBusReceivedMessage[]> {
    return this.take(this.waiting());
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Job ids of release messages, counted: `{ job1: 1, job2: 2 }` would be a double release. */
export function jobIdCounts(messages: readonly ServiceBusReceivedMessage[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const message of messages) {
    const jobId = (message.body as { jobId: string }).jobId;
    counts[jobId] = (counts[jobId] ?? 0) + 1;
  }
  return counts;
}
