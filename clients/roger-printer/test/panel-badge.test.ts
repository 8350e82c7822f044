import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { enrolledPrinter, freshTenant, uniqueName, uniqueTag } from '../../../tests/helpers/fixtures.js';
import { consentToOneDrive, startHostWithMicrosoft } from '../../../tests/helpers/onedrive.js';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import { api, type Person } from '../../../tests/helpers/roger.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import { agentsOnTestHost, startArgs, writeEnrolledState, type AgentProcess } from './panel-process.js';
import { jobState, queuedJob } from './receive-world.js';

/**
 * Badge sign-in at the panel (docs/clients.md#roger-printer, issue 22), typed on the real
 * program's stdin as a card reader types a badge: registered by the person during a session,
 * then their sign-in by that badge, a queued job released and printed into the output folder;
 * badge and PIN, where the PIN is asked for once the server says it is needed; PIN-only.
 */
const admin: Person = { email: 'bea@badge.test', username: 'bea', fullName: 'Bea Admin', password: 'bea-password-12' };
/** In a tenant with PIN-only sign-in: her PIN is drawn by Roger (an admin's PIN reset), long enough to say who she is. */
const pia: Person = { email: 'pia@badge.test', username: 'pia', fullName: 'Pia User', password: 'pia-password-12' };
const uma: Person = { email: 'uma@badge.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12', pin: '6284' };

/** A badge number as a reader sends it: 10 hex digits, this test's own. */
const badgeNumber = () => `04${uniqueTag()}`.toLowerCase();

describe('roger-printer panel: badges and PIN-only', () => {
  let ms: LocalMicrosoft | undefined;
  const agents = agentsOnTestHost({}, async () => {
    const started = await startHostWithMicrosoft();
    ms = started.ms;
    return started.host;
  });
  let host: TestHost;
  beforeAll(() => {
    host = agents.host;
  });

  /** The agent for a printer of a new tenant with `policy`, `users` made by its admin. */
  async function panel(policy: Record<string, unknown>, users: Person[] = [], on: 'pipe' | 'terminal' = 'pipe') {
    const tenant = await freshTenant(host, 'badge', admin, users, policy);
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Lobby');
    const work = await agents.folder();
    await writeEnrolledState(host, work.state, printer);
    const agent = agents.start(startArgs(host, work), on);
    await agent.waitFor(/connected: printer/);
    return { agent, tenant, printer, work };
  }

  /** The panel's hidden prompt (`badge: ` or `PIN: `, a line of its own when stdin is no terminal), then the answer. */
  async function answer(agent: AgentProcess, prompt: 'badge' | 'PIN', value: string) {
    await agent.waitFor(new RegExp(`${prompt}: \\n`));
    agent.type(value);
  }

  it('registered at the printer during a session, the badge signs its owner in, and release prints their queued job', async () => {
    const { agent, tenant, printer, work } = await panel({ badgeSignIn: 'badge' });
    const bea = tenant.admin;
    const badge = badgeNumber();
    const { callbackUrl } = await consentToOneDrive(host, ms!, bea.token, `${uniqueName('bea')}@badge.example`);
    expect((await fetch(callbackUrl, { redirect: 'manual' })).status).toBe(200);

    agent.type('register badge');
    await agent.waitFor(/register badge: sign in first \(qr, pin or badge\)\n/);
    // Registering at the panel asks for the person's PIN (a session left open is not enough): Bea sets one.
    const beaPin = '7391';
    expect((await api(host, bea.token, 'PUT', '/api/me/pin', { current: admin.password, pin: beaPin })).status).toBe(204);

    // A session approved from the app (nothing queued yet, so the approval releases nothing).
    agent.type('qr');
    const [, code] = await agent.waitFor(/session code: ([A-Z]{4}-[A-Z]{4})\n/);
    expect((await api(host, bea.token, 'POST', '/api/device-codes/approve', { user_code: code })).status).toBe(200);
    await agent.waitFor(/signed in: session \S+\n/);

    // A wrong PIN registers nothing, in the server's words; then the right one.
    agent.type('register badge Blue card');
    await answer(agent, 'badge', badge);
    await answer(agent, 'PIN', '0000');
    await agent.waitFor(/badge not registered: [^\n]*wrong PIN[^\n]*\n/);
    agent.type('register badge Blue card');
    await answer(agent, 'badge', badge);
    await answer(agent, 'PIN', beaPin);
    await agent.waitFor(/badge registered\n/);
    const listed = await api(host, bea.token, 'GET', `/api/users/${bea.id}/badges`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ label: 'Blue card' })]);
    // The same badge again (as the reader sends it in upper case): taken, in the panel's words.
    agent.type('register badge');
    await answer(agent, 'badge', badge.toUpperCase());
    await answer(agent, 'PIN', beaPin);
    await agent.waitFor(/badge not registered: this badge is already registered in your organization\n/);
    // Nine more (an admin's), and the eleventh is refused in the server's words.
    const more = await Promise.all(
      Array.from({ length: 9 }, () => api(host, bea.token, 'POST', `/api/users/${bea.id}/badges`, { number: badgeNumber() })),
    );
    expect(more.map((added) => added.status)).toEqual(Array(9).fill(201));
    agent.type('register badge');
    await answer(agent, 'badge', badgeNumber());
    await answer(agent, 'PIN', beaPin);
    await agent.waitFor(/badge not registered: [^\n]*at most 10 badges[^\n]*\n/);

    const document = multiPagePdf(2, 'Badge release');
    const jobId = await queuedJob(host, bea.token, 'Badge release.pdf', document);

    // An unknown badge is refused; the registered one, with the reader's spaces, signs Bea in.
    agent.type('badge');
    await answer(agent, 'badge', badgeNumber());
    const [refusal] = await agent.waitFor(/sign-in refused: [^\n]+\n/);
    agent.type('badge');
    await answer(agent, 'badge', ` ${badge} `);
    await agent.waitFor(/signed in: session \S+\n/);
    expect(await jobState(host, bea.token, jobId)).toBe('queued'); // a badge session releases nothing by itself

    agent.type('release');
    await agent.waitFor(/released 1\n/);
    const [, file] = await agent.waitFor(new RegExp(`printed ${jobId} → (\\S+)\\n`));
    expect(file!.startsWith(work.output)).toBe(true);
    expect((await readFile(file!)).equals(document)).toBe(true);
    await expect.poll(() => jobState(host, bea.token, jobId), { timeout: 10_000 }).toBe('printed');
    expect((await api(host, bea.token, 'GET', `/api/jobs/${jobId}`)).body).toMatchObject({ releasedTo: printer.deviceId });

    // The refusal names no account; no badge number and no token reaches the terminal.
    expect(refusal).not.toContain(admin.username);
    expect(agent.stdout + agent.stderr).not.toMatch(new RegExp(`${badge}|eyJ|${beaPin}`, 'i'));
    expect(await agent.quit()).toBe(0);
  });

  it('on a terminal, what is typed is echoed but the badge number is not', async () => {
    const { agent, tenant } = await panel({ badgeSignIn: 'badge' }, [], 'terminal');
    const badge = badgeNumber();
    expect((await api(host, tenant.admin.token, 'POST', `/api/users/${tenant.admin.id}/badges`, { number: badge })).status).toBe(201);
    await agent.waitFor(/panel> /);
    agent.type('badge');
    await agent.waitFor(/badge: /);
    agent.type(badge);
    await agent.waitFor(/signed in: session \S+/);
    // The command was echoed as typed; the badge number was not.
    expect(agent.stdout).toMatch(/panel> badge\r*\n/);
    expect(agent.stdout).not.toMatch(new RegExp(badge, 'i'));
    expect(await agent.quit()).toBe(0);
  });

  it('badge and PIN: the PIN is asked for once the server says it is needed, and a wrong one is refused', async () => {
    const { agent, tenant } = await panel({ badgeSignIn: 'badge+pin' }, [uma]);
    const user = tenant.users[0]!;
    const badge = badgeNumber();
    const added = await api(host, tenant.admin.token, 'POST', `/api/users/${user.id}/badges`, { number: badge });
    expect(added.status, JSON.stringify(added.body)).toBe(201);

    // An unknown badge is asked for its PIN too: the prompt says nothing of whether a badge is known.
    agent.type('badge');
    await answer(agent, 'badge', badgeNumber());
    await answer(agent, 'PIN', uma.pin!);
    const [unknown] = await agent.waitFor(/sign-in refused: [^\n]+\n/);
    agent.type('badge');
    await answer(agent, 'badge', badge);
    await answer(agent, 'PIN', '0000');
    const [wrongPin] = await agent.waitFor(/sign-in refused: [^\n]+\n/);
    expect(wrongPin).toBe(unknown);

    agent.type('badge');
    await answer(agent, 'badge', badge);
    await answer(agent, 'PIN', uma.pin!);
    await agent.waitFor(/signed in: session \S+\n/);
    agent.type('status');
    await agent.waitFor(/; sessions 1\n/);
    expect(agent.stdout + agent.stderr).not.toMatch(new RegExp(`${badge}|${uma.pin}|0000|eyJ`, 'i'));
    expect(await agent.quit()).toBe(0);
  });

  it('where the organization has badge sign-in off, the panel says so in plain words; a badge on the command line is not taken', async () => {
    const { agent } = await panel({});
    agent.type('badge 0412345678');
    await agent.waitFor(/usage: badge \(then tap the badge, or type its number\)\n/);
    agent.type('badge');
    await answer(agent, 'badge', badgeNumber());
    await agent.waitFor(/sign-in refused: this organization does not use badge sign-in at its printers\n/);
    agent.type('pin-only');
    await answer(agent, 'PIN', '70315928');
    await agent.waitFor(/sign-in refused: this organization does not use PIN-only sign-in at its printers\n/);
    expect(agent.stdout + agent.stderr).not.toMatch(/0412345678|70315928/);
    expect(await agent.quit()).toBe(0);
  });

  it('too many failed sign-ins at this printer: the panel says how long to wait at once, and goes on taking commands', async () => {
    const { agent } = await panel({ badgeSignIn: 'badge', printerFailedSignInLimit: 5 });
    for (let i = 0; i < 5; i++) {
      agent.type('badge');
      await answer(agent, 'badge', badgeNumber());
      await agent.waitFor(/sign-in refused: unknown badge[^\n]*\n/);
    }
    const asked = Date.now();
    agent.type('badge');
    await answer(agent, 'badge', badgeNumber());
    await agent.waitFor(/sign-in refused: too many failed sign-ins from this printer; try again in \d+ seconds\n/);
    // Said, not waited out behind the prompt (the window is 15 minutes): well within the backoff's first minute.
    expect(Date.now() - asked).toBeLessThan(5_000);
    agent.type('status');
    await agent.waitFor(/; sessions 0\n/);
    expect(await agent.quit()).toBe(0);
  });

  it('pin-only: where PINs say who someone is, the PIN alone signs its holder in; a PIN nobody holds is refused', async () => {
    const { agent, tenant } = await panel({ pinOnly: true, pinMinLength: 8 }, [pia]);
    const reset = await api(host, tenant.admin.token, 'POST', `/api/users/${tenant.users[0]!.id}/pin-reset`);
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    const pin = reset.body.pin as string;
    // One digit off: a PIN nobody holds (the next PIN up, unless that is hers too, which cannot be).
    const other = String((Number(pin) + 1) % 10 ** pin.length).padStart(pin.length, '0');
    agent.type('pin-only');
    await answer(agent, 'PIN', other);
    await agent.waitFor(/sign-in refused: [^\n]+\n/);
    agent.type('pin-only');
    await answer(agent, 'PIN', pin);
    await agent.waitFor(/signed in: session \S+\n/);
    expect(agent.stdout + agent.stderr).not.toMatch(new RegExp(`${pin}|${other}|eyJ`));
    expect(await agent.quit()).toBe(0);
  });
});
