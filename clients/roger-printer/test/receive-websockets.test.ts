import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { startHostWithMicrosoft } from '../../../tests/helpers/onedrive.js';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import { api } from '../../../tests/helpers/roger.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import { AgentProcess, startArgs, workFolder, writeEnrolledState } from './panel-process.js';
import { brokerOf, jobState, northwind, queuedJob } from './receive-world.js';

/**
 * docs/clients.md#amqp-over-websockets through the real program: `roger-printer start` told by its
 * environment knob to receive over WebSockets (what a printer behind a 443-only firewall does).
 * A printer enrolled through the API, holding nothing but its device token: the agent asks
 * /api/devices/me/amqp-token for a SAS token and the WebSocket URL, and the Service Bus SDK
 * carries AMQP in WebSocket messages to the host's broker. No connection string, no key.
 */
describe('roger-printer start --transport websockets', () => {
  let host: TestHost;
  let ms: LocalMicrosoft;

  beforeAll(async () => {
    ({ host, ms } = await startHostWithMicrosoft());
  });
  afterAll(async () => {
    await host?.close();
  });

  it('receives a release over WebSockets with only the SAS token from amqp-token, prints it and reports it, across a broker restart', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const document = multiPagePdf(2, 'Behind the firewall');
    const jobId = await queuedJob(host, userToken, 'Behind the firewall.pdf', document);
    const folder = await workFolder();
    await writeEnrolledState(host, folder.state, printer, 'Floor 4');
    const broker = await brokerOf(host);
    const agent = AgentProcess.start(startArgs(host, folder), { ROGER_PRINTER_TRANSPORT: 'websockets' });
    try {
      await agent.waitFor(/ready: receiving releases \(AMQP over WebSockets\)/);
      // The agent's is the only WebSocket connection: the app sends over AMQP.
      expect(broker.openConnections().webSockets).toBe(1);
      await broker.pause();
      await agent.waitFor(/connection lost: /);
      await broker.resume();
      await agent.waitFor(/reconnected: receiving releases \(AMQP over WebSockets\)/);

      agent.type('qr');
      const [, code] = await agent.waitFor(/session code: (\S+)/);
      expect((await api(host, userToken, 'POST', '/api/device-codes/approve', { user_code: code })).status).toBe(200);
      const [, path] = await agent.waitFor(new RegExp(`printed ${jobId} → (.+\\.pdf)`));
      expect((await readFile(path!)).equals(document)).toBe(true);
      await expect.poll(() => jobState(host, userToken, jobId), { timeout: 15_000 }).toBe('printed');
      expect(broker.openConnections().webSockets).toBe(1);
      expect(`${agent.stdout}\n${agent.stderr}`).not.toMatch(/eyJ|SharedAccessSignature|sig=/);
      expect(await agent.quit()).toBe(0);
    } finally {
      agent.kill();
      await folder.remove();
    }
  });
});
