import { readDevice } from '../devices/devices.js';
import { Forbidden } from '../errors.js';
import type { Services } from '../services.js';
import { mintSasToken } from './sas.js';

/** Short enough that a disconnected printer is locked out soon; its client renews well before. */
export const PRINTER_SAS_LIFETIME_SECONDS = 20 * 60;

export interface PrinterCredentials {
  /** Where the printer connects (AMQP). */
  readonly amqpUrl: string;
  /** The same over AMQP over WebSockets on 443, for networks that allow nothing else; the same token works on both. */
  readonly amqpWebSocketUrl: string;
  /** The release topic the printer was given at enrollment (`releases-NN`, docs/flows.md#release-to-printers). */
  readonly topic: string;
  /** Its own subscription: `<topic>/subscriptions/<printerId>`. */
  readonly entityPath: string;
  readonly sasToken: string;
  readonly expiresOn: Date;
}

/**
 * A printer's Service Bus credentials (docs/security.md#printer-credentials-sas-scope): a SAS
 * token signed with the Listen-only rule and scoped to the printer's own subscription, so it can
 * receive its own release messages and nothing else — not send, not read another printer's.
 * Only a connected printer gets one: a disconnected printer's last token lapses within
 * PRINTER_SAS_LIFETIME_SECONDS and is not renewed (403).
 */
export async function printerCredentials(services: Services, tenantId: string, deviceId: string): Promise<PrinterCredentials> {
  const device = await readDevice(services.store, tenantId, deviceId);
  if (!device || device.status !== 'connected') throw new Forbidden('this printer is disconnected; enroll it again');
  const messaging = await services.messaging();
  const entityPath = `${device.topic}/subscriptions/${device.id}`;
  const expiresOn = new Date(services.now().getTime() + PRINTER_SAS_LIFETIME_SECONDS * 1000);
  const { name, key } = messaging.listenRule;
  return {
    amqpUrl: messaging.amqpUrl,
    amqpWebSocketUrl: messaging.amqpWebSocketUrl,
    topic: device.topic,
    entityPath,
    sasToken: mintSasToken(`${messaging.resourceBase}${entityPath}`, name, key, expiresOn),
    expiresOn,
  };
}
