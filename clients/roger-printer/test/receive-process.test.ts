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
 * docs/clients.md#receiving-a-release through the real program: `roger-printer start` in a child
 * process, a person signing in with the panel's session QR, their queued documents printed into
 * the output folder byte for byte, and a broker restart on the way.
 */
describe('roger-printer start receives and prints', () => {
  let host: TestHost;
  let ms: LocalMicrosoft;

  beforeAll(async () => {
    ({ host, ms } = await startHostWithMicrosoft());
  });
  afterAll(async () => {
    await host?.close();
  });

  it('a session QR at the panel releases the queued jobs: each is written with its bytes, once, and reported printed, across a broker restart', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const documents = [multiPagePdf(4, 'Annual report'), multiPagePdf(2, 'Appendix')];
    const ids = [
      await queuedJob(host, userToken, 'Annual report.pdf', documents[0]!),
      await queuedJob(host, userToken, 'Appendix.pdf', documents[1]!),
    ];
    const folder = await workFolder();
    await writeEnrolledState(host, folder.state, printer, 'Floor 4');
    const agent = AgentProcess.start(startArgs(host, folder));
    try {
      await agent.waitFor(/ready: receiving releases/);
      // The broker restarts while the agent waits: it reconnects by itself.
      const broker = await brokerOf(host);
      await broker.pause();
      await agent.waitFor(/connection lost: /);
      await broker.resume();
      await agent.waitFor(/reconnected: receiving releases/);

      agent.type('qr');
      const [, code] = await agent.waitFor(/session code: (\S+)/);
      expect((await api(host, userToken, 'POST', '/api/device-codes/approve', { user_code: code })).status).toBe(200);
      await agent.waitFor(/signed in: session /);
      for (const [index, id] of ids.entries()) {
        const [, path] = await agent.waitFor(new RegExp(`printed ${id} → (.+\\.pdf)`));
        expect(path).toMatch(new RegExp(`/\\d{8}-\\d{6}-${id}\\.pdf$`));
        expect((await readFile(path!)).equals(documents[index]!)).toBe(true);
      }
      for (const id of ids) await expect.poll(() => jobState(host, userToken, id), { timeout: 15_000 }).toBe('printed');
      expect(agent.stdout.match(/^printed /gm)).toHaveLength(2);
      expect(`${agent.stdout}\n${agent.stderr}`).not.toMatch(/eyJ|SharedAccessSignature|sig=/);
      expect(await agent.quit()).toBe(0);
    } finally {
      agent.kill();
      await folder.remove();
    }
  });

  // docs/clients.md#amqp-over-websockets: the same program told by its environment knob to
  // receive over WebSockets (a printer behind a 443-only firewall). It holds nothing but its
  // device token: the agent asks /api/devices/me/amqp-token for a SAS token and the WebSocket URL,
  // and the Service Bus SDK carries AMQP in WebSocket messages to the host's broker. No
  // connection string, no key.
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
