import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceDoc } from '../../shared/devices/devices.js';
import { verifyCredential } from '../../shared/tokens/credential-hash.js';
import { enrollPrinter, type EnrolledPrinter } from '../helpers/printer.js';
import { api, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';
import { pinAttempt, readUserDoc, refreshWith } from '../races/race-kit.js';
import {
  allStatuses,
  phoneSession,
  printerRefreshes,
  signInsAtPrinter,
  startRaceStage,
  startTraffic,
  wrongPasswords,
  type RaceStage,
  type Traffic,
} from '../races/traffic.js';

/**
 * Issue 13, defect 3: credential reset, PIN reset, printer disconnect and erasure made one
 * conditional write of an item that sign-ins and refreshes write all the time, and answered
 * 500 when one of those came first. Anyone can make such writes (wrong passwords need only a
 * username), so anyone could keep an admin from locking a thief out.
 */
const SLUG = 'recovery';

describe('defect 3: admin recovery fails with 500 while sign-ins or refreshes race it', () => {
  let stage: RaceStage;
  let host: TestHost;
  let tenantId: string;
  let adminToken: string;
  let printers: readonly EnrolledPrinter[];
  const newUser = () => stage.newUser();

  beforeAll(async () => {
    // The highest lockout threshold: the racing right passwords keep the wrong ones from locking the account.
    stage = await startRaceStage(SLUG, { lockoutThreshold: 20 });
    ({ host, tenantId, adminToken, printers } = stage);
  });
  afterAll(() => stage?.close());

  /** The user's password at two printers, their phone, and an anonymous wrong-password loop: all writes of the user item. */
  function busy(person: Person): Traffic {
    return startTraffic({
      'password at A': signInsAtPrinter(host, printers[0]!.access, person.username, person.password),
      'password at B': signInsAtPrinter(host, printers[1]!.access, person.username, person.password),
      phone: phoneSession(host, SLUG, person.username, person.password),
      'wrong password': wrongPasswords(host, SLUG, person.username),
    });
  }

  /** The traffic met only answers a client can act on, and the account was written meanwhile. */
  function expectServed(report: Record<string, Record<number, number>>) {
    const statuses = allStatuses(report);
    expect(
      Object.keys(statuses).filter((s) => Number(s) >= 500),
      JSON.stringify(report),
    ).toEqual([]);
    expect(report['password at A']![200], JSON.stringify(report)).toBeGreaterThan(0);
  }

  it('PUT /api/users/{id}/credentials: every reset is applied (204), none fails because a sign-in wrote first', async () => {
    const { person, id } = await newUser();
    const traffic = busy(person);
    const answers: number[] = [];
    const pins: string[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const pin = String(1000 + ((i * 7919) % 9000));
        pins.push(pin);
        answers.push((await api(host, adminToken, 'PUT', `/api/users/${id}/credentials`, { pin })).status);
      }
    } finally {
      expectServed(await traffic.stop());
    }
    expect(answers).toEqual(Array(10).fill(204));
    expect(await verifyCredential((await readUserDoc(host, tenantId, id)).pinHash!, pins.at(-1)!)).toBe(true);
    expect((await pinAttempt(host, printers[0]!.access, person.username, pins.at(-1)!)).status).toBe(200);
  });

  it('POST /api/users/{id}/pin-reset: every reset is applied (200 with the PIN), and the last PIN works', async () => {
    const { person, id } = await newUser();
    const traffic = busy(person);
    const answers: { status: number; body?: { pin?: string } }[] = [];
    try {
      for (let i = 0; i < 10; i++) answers.push(await api(host, adminToken, 'POST', `/api/users/${id}/pin-reset`));
    } finally {
      expectServed(await traffic.stop());
    }
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const last = answers.at(-1)!.body!.pin!;
    expect(await verifyCredential((await readUserDoc(host, tenantId, id)).pinHash!, last)).toBe(true);
    expect((await pinAttempt(host, printers[1]!.access, person.username, last)).status).toBe(200);
  });

  it('DELETE /api/devices/{id} while the printer refreshes (and another admin edits it): 204, and the printer is disconnected for good', async () => {
    const { store } = await host.services();
    const enrolled = await Promise.all(Array.from({ length: 8 }, (_, i) => enrollPrinter(host, adminToken, `Refreshing ${i}`)));
    for (const [round, printer] of enrolled.entries()) {
      const refreshes = printerRefreshes(host, printer.refresh);
      const traffic = startTraffic({
        'printer refresh': refreshes,
        'admin moves it': () => api(host, adminToken, 'PATCH', `/api/devices/${printer.deviceId}`, { location: `Floor ${round}` }),
      });
      await new Promise((resolve) => setTimeout(resolve, 20)); // let both get going
      const disconnected = await api(host, adminToken, 'DELETE', `/api/devices/${printer.deviceId}`);
      const report = await traffic.stop();
      expect(disconnected.status, `round ${round}: ${JSON.stringify(disconnected.body)}`).toBe(204);
      expect(
        Object.keys(allStatuses(report)).filter((s) => Number(s) >= 500),
        JSON.stringify(report),
      ).toEqual([]);

      const { resource: device } = await store.container('accounts').item(printer.deviceId, tenantId).read<DeviceDoc>();
      expect(device).toMatchObject({ status: 'disconnected', refreshFamilies: [] });
      expect((await refreshWith(host, 'roger-emb', refreshes.latest())).body.error).toBe('invalid_grant');
      expect((await api(host, printer.access, 'POST', '/api/devices/me/amqp-token')).status).toBe(403);
    }
  });

  it('DELETE /api/users/{id} while the user signs in and refreshes: 204, and nothing of theirs is left', async () => {
    for (let round = 0; round < 3; round++) {
      const { person, id } = await newUser();
      const traffic = busy(person);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const erased = await api(host, adminToken, 'DELETE', `/api/users/${id}`);
      const report = await traffic.stop();
      expect(erased.status, `round ${round}: ${JSON.stringify(erased.body)}`).toBe(204);
      expect(
        Object.keys(allStatuses(report)).filter((s) => Number(s) >= 500),
        JSON.stringify(report),
      ).toEqual([]);

      expect((await api(host, adminToken, 'GET', `/api/users/${id}`)).status).toBe(404);
      expect((await pinAttempt(host, printers[0]!.access, person.username, person.password)).body.error).toBe('invalid_grant');
      // The username is free again: the erasure released it even though sign-ins kept writing the user.
      expect((await api(host, adminToken, 'POST', '/api/users', { ...person, fullName: 'Someone else' })).status).toBe(201);
    }
  });
});
