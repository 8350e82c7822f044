import { describe, expect, it } from 'vitest';
import { enrolledPrinter, freshTenant } from '../../../tests/helpers/fixtures.js';
import type { Person } from '../../../tests/helpers/roger.js';
import { agentsOnTestHost, startArgs, writeEnrolledState } from './panel-process.js';
import { sendAsApp } from './receive-world.js';

/**
 * The agent runs for days with one stop signal: nothing may add a listener to it per message
 * and leave it there (docs/clients.md#receiving-a-release). Node warns at the eleventh
 * (MaxListenersExceededWarning); eleven receives one after another must not bring it (they did).
 * Eleven is enough: the SDK left one listener per receive that drained, so the eleventh passes
 * the default limit of 10 (and the agent's first receive, which attaches the link, adds one
 * more). Each message costs about a second: the SDK waits that long after a first message for
 * more to batch with it.
 */
const admin: Person = { email: 'lea@listeners.test', username: 'lea', fullName: 'Lea Admin', password: 'lea-password-123' };

describe('roger-printer start, message after message', () => {
  const agents = agentsOnTestHost();

  it('adds no listener to its stop signal per receive: no MaxListenersExceededWarning on stderr', async () => {
    const { host } = agents;
    const tenant = await freshTenant(host, 'listeners', admin, []);
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Lobby');
    const folder = await agents.folder();
    await writeEnrolledState(host, folder.state, printer);
    const agent = agents.start(startArgs(host, folder));
    await agent.waitFor(/ready: receiving releases/);
    // Each message is one receive of the agent's (it waits for the one before to be handled).
    for (let sent = 0; sent < 11; sent++) {
      await sendAsApp(host, [{ body: { type: 'hello' }, applicationProperties: { printerId: printer.deviceId } }]);
      await agent.waitFor(/skipped message: not a release/);
    }
    expect(agent.stderr).not.toMatch(/MaxListenersExceededWarning|memory leak/);
    expect(await agent.quit()).toBe(0);
    expect(agent.stderr).not.toMatch(/Warning/);
  });
});
