import * as oauth from 'openid-client';
import type { Page } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueTag } from '../helpers/fixtures.js';
import { enrollPrinter, pinSession } from '../helpers/printer.js';
import { api, oauthClient, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';
import { axe, checkScreen, goInApp, openApp, shots, signInWithKeyboard, startAdminApp, switchLanguage, tabTo } from '../helpers/web-app.js';

/**
 * The admin screens Users and Printers (docs/web-app.md#admin-users-and-printers) in Debian's
 * Chromium against the test host, keyboard first: create a user through the form (a bad email is
 * answered next to its field), find them by search, rename them, reset their PIN (shown once, then
 * gone), see a SCIM-provisioned user's read-only fields with the reason, erase with the typed
 * confirmation, page through the list; enroll a printer by the code its panel shows, rename it,
 * disconnect it. Each action is checked through the API too; axe and screenshots in both languages.
 */
const grace: Person = { email: 'grace@contoso.test', username: 'grace', fullName: 'Grace Hopper', password: 'grace-password-123' };

/** Chromium logs each 4xx answer to fetch: each refusal the test asks for is checked at its step. */
const BAD_REQUEST = 'console error: Failed to load resource: the server responded with a status of 400 (Bad Request)';
const NOT_FOUND = 'console error: Failed to load resource: the server responded with a status of 404 (Not Found)';

/**
 * A dialog state in both languages: a modal dialog keeps focus inside it, so the language is
 * switched with the dialog closed and the state reached again (`open`), then closed (`close`).
 */
async function checkDialog(page: Page, name: string, open: (language: 'en' | 'fr') => Promise<unknown>, close: () => Promise<unknown>) {
  const found: string[] = [];
  for (const language of ['en', 'fr'] as const) {
    await switchLanguage(page, language);
    await open(language);
    found.push(...(await axe(page)).map((line) => `${name} (${language}): ${line}`));
    await shots(page, `${name}-${language}`, language === 'fr'); // French at phone size, as checkScreen does
    await close();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  }
  await switchLanguage(page, 'en');
  return found;
}

describe('the admin screens Users and Printers', { timeout: 180_000 }, () => {
  let host: TestHost;
  let browser: Browser;
  let tenant: string;
  let admin: Person;
  let token: string;

  beforeAll(async () => {
    ({ host, browser, tenant, admin, token } = await startAdminApp(grace));
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  it('creates, finds, edits, resets the PIN of and erases a user; pages; shows a provisioned user read-only', async () => {
    // Three users made through the API so that pages of 3 make two pages with the admin and the provisioned one.
    for (const n of [1, 2, 3]) {
      const made = await api(host, token, 'POST', '/api/users', {
        email: `u${n}@fabrikam.test`,
        username: `user${n}`,
        fullName: `User ${n}`,
      });
      expect(made.status).toBe(201);
    }
    // A user provisioned over SCIM by the tenant's identity provider, with an admin group named in the policy.
    const scim = await api(host, token, 'POST', '/api/tenant/scim-tokens', { name: 'Entra' });
    expect(scim.status).toBe(201);
    const tag = uniqueTag();
    const provisioned = await fetch(`${host.url}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${scim.body.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        externalId: `ext-${tag}`,
        userName: `megan-${tag}`,
        active: true,
        displayName: 'Megan Bowen',
        emails: [{ primary: true, type: 'work', value: `megan-${tag}@fabrikam.test` }],
      }),
    });
    expect(provisioned.status).toBe(201);
    const megan = (await provisioned.json()) as { id: string };
    expect((await api(host, token, 'PATCH', '/api/tenant', { policy: { entraAdminGroupId: crypto.randomUUID() } })).status).toBe(200);
    const printer = await enrollPrinter(host, token, 'Panel for PIN');

    const { context, page, problems } = await openApp(browser, 'en-GB');
    await page.goto(`${host.url}/app/admin/users?limit=3`);
    await signInWithKeyboard(page, tenant, admin);
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('row', { name: /Grace Hopper/ }).waitFor();

    // Paging: 5 users, 3 a page; Next and Previous by keyboard.
    expect(await page.getByRole('row').count()).toBe(4); // header + 3
    expect(await page.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
    await tabTo(page, 'Next');
    await page.keyboard.press('Enter');
    await page.getByText('Page 2').waitFor();
    await expect.poll(() => page.getByRole('row').count()).toBe(3); // header + 2
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Page 1').waitFor();
    expect(
      await checkScreen(page, 'admin-users-list', (language) =>
        page.getByRole('heading', { name: language === 'fr' ? 'Utilisateurs' : 'Users' }).waitFor(),
      ),
    ).toEqual([]);

    // Create, keyboard only: a bad email is answered next to its field, in the screen's words.
    await tabTo(page, 'New user');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    const fillCreate = async (email: string) => {
      await page.keyboard.type('Ada Lovelace');
      await page.keyboard.press('Tab');
      await page.keyboard.type('ada');
      await page.keyboard.press('Tab');
      await page.keyboard.type(email);
      await page.keyboard.press('Enter');
    };
    await fillCreate('ada-at-example');
    await page.getByText('Enter an email address such as name@contoso.com.').waitFor();
    expect((await api(host, token, 'GET', '/api/users?q=ada')).body.items).toEqual([]);
    expect(problems.splice(0)).toEqual([BAD_REQUEST]);
    const openCreateWithError = async (language: 'en' | 'fr') => {
      await page.getByRole('button', { name: language === 'fr' ? 'Nouvel utilisateur' : 'New user' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor();
      await fillCreate('ada-at-example');
      await page
        .getByText(
          language === 'fr'
            ? 'Saisissez une adresse e\u2011mail comme nom@contoso.com.'
            : 'Enter an email address such as name@contoso.com.',
        )
        .waitFor();
    };
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await checkDialog(page, 'admin-users-create-error', openCreateWithError, () => page.keyboard.press('Escape'))).toEqual([]);
    expect(problems.splice(0)).toEqual([BAD_REQUEST, BAD_REQUEST]); // the form sent once in each language

    // The same form, the email corrected: created, and said so.
    await openCreateWithError('en');
    const emailField = page.getByRole('textbox', { name: /Email/ });
    await emailField.focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('ada@fabrikam.test');
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Ada Lovelace is created.').waitFor();
    expect(problems.splice(0)).toEqual([BAD_REQUEST]);
    const [ada] = (await api(host, token, 'GET', '/api/users?q=ada%40fabrikam.test')).body.items;
    expect(ada).toMatchObject({ username: 'ada', fullName: 'Ada Lovelace', role: 'user', provisioned: false });

    // Found by search as you type, then opened by keyboard.
    await page.getByRole('searchbox', { name: /Search/ }).focus();
    await page.keyboard.type('lovelace');
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    await page.getByRole('link', { name: 'Ada Lovelace' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 2 }).waitFor();

    // Edit the name.
    const nameField = page.getByRole('textbox', { name: 'Name', exact: true });
    await nameField.focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('Ada King');
    await page.keyboard.press('Enter');
    await page.getByText('The changes are saved.').waitFor();
    await page.getByRole('heading', { name: 'Ada King', level: 2 }).waitFor();
    expect((await api(host, token, 'GET', `/api/users/${ada.id}`)).body.fullName).toBe('Ada King');

    // PIN reset: confirmed, then the PIN shown once; closing the dialog drops it from the page.
    let pin = '';
    const resetPin = async (language: 'en' | 'fr') => {
      await page.getByRole('button', { name: language === 'fr' ? 'Réinitialiser le code PIN' : 'Reset the PIN' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor();
      await page.keyboard.press('Enter'); // the dialog's first button: Reset the PIN
      await page.getByTestId('one-time-pin').waitFor();
      pin = (await page.getByTestId('one-time-pin').textContent()) ?? '';
    };
    expect(
      await checkDialog(page, 'admin-users-pin-once', resetPin, async () => {
        await page.getByRole('button', { name: /^(Close|Fermer)$/ }).focus();
        await page.keyboard.press('Enter');
      }),
    ).toEqual([]);
    expect(pin).toMatch(/^[0-9]{4,12}$/);
    expect(await page.content()).not.toContain(pin);
    expect(await page.evaluate('JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage })')).not.toContain(pin);
    expect(await pinSession(host, printer, 'ada', pin)).toBeTruthy(); // the last PIN shown works at a printer

    // Erase: the confirm button stays disabled until the username is typed exactly.
    const openErase = async (language: 'en' | 'fr') => {
      await page.getByRole('button', { name: language === 'fr' ? 'Effacer cet utilisateur' : 'Erase this user' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor();
      await page.keyboard.type('ad');
      expect(await page.getByRole('button', { name: language === 'fr' ? 'Effacer définitivement' : 'Erase for good' }).isDisabled()).toBe(
        true,
      );
    };
    expect(await checkDialog(page, 'admin-users-erase', openErase, () => page.keyboard.press('Escape'))).toEqual([]);
    await openErase('en');
    await page.keyboard.type('A'); // "adA": not the username
    expect(await page.getByRole('button', { name: 'Erase for good' }).isDisabled()).toBe(true);
    await page.keyboard.press('Backspace');
    await page.keyboard.type('a');
    expect(await page.getByRole('button', { name: 'Erase for good' }).isDisabled()).toBe(false);
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Ada King is erased.').waitFor();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    expect((await api(host, token, 'GET', `/api/users/${ada.id}`)).status).toBe(404);
    expect(await page.getByRole('link', { name: 'Ada King' }).count()).toBe(0);

    // A provisioned user: what the directory owns is read-only, with the reason; the role too (admin group named).
    await goInApp(page, `/app/admin/users?user=${megan.id}`);
    await page.getByRole('heading', { name: 'Megan Bowen', level: 2 }).waitFor();
    await page.getByText('Provisioned by your company directory').waitFor();
    for (const label of ['Name', 'Username', 'Email', 'Role'])
      expect(await page.getByRole('textbox', { name: label, exact: true }).getAttribute('readonly'), label).not.toBeNull();
    expect(await page.getByText('Managed by your company directory (SCIM): change it there.').count()).toBe(4);
    expect(
      await checkScreen(page, 'admin-users-provisioned', (language) =>
        page
          .getByText(language === 'fr' ? 'Provisionné par l’annuaire de votre entreprise' : 'Provisioned by your company directory')
          .waitFor(),
      ),
    ).toEqual([]);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('enrolls a printer by its code, renames it and disconnects it', async () => {
    // The printer's panel asks to be enrolled (RFC 8628) and shows its user code.
    const emb = await oauthClient(host, 'roger-emb');
    const authorization = await oauth.initiateDeviceAuthorization(emb, { scope: 'device' });
    const polling = oauth.pollDeviceAuthorizationGrant(emb, authorization);

    const { context, page, problems } = await openApp(browser, 'en-GB');
    await page.goto(`${host.url}/app/admin/printers`);
    await signInWithKeyboard(page, tenant, admin);
    await page.getByRole('heading', { name: 'Printers', level: 2 }).waitFor();
    await page.getByText('Loading printers…').waitFor({ state: 'detached' });

    // A code nobody is waiting with is answered in words next to the field.
    await page.getByRole('textbox', { name: /Code on the printer/ }).focus();
    await page.keyboard.type('BBBB-BBBB');
    await page.keyboard.press('Enter');
    await page.getByText('No printer is waiting with this code.', { exact: false }).waitFor();
    expect(problems.splice(0)).toEqual([NOT_FOUND]);
    expect(
      await checkScreen(page, 'admin-printers-enroll', (language) =>
        page.getByRole('heading', { name: language === 'fr' ? 'Enregistrer une imprimante' : 'Enroll a printer' }).waitFor(),
      ),
    ).toEqual([]);

    // The right code, then a name and location, by keyboard.
    await page.getByRole('textbox', { name: /Code on the printer/ }).focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(authorization.user_code.toLowerCase());
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: /^Name/ }).waitFor();
    expect(
      await checkScreen(page, 'admin-printers-enroll-name', (language) =>
        page.getByRole('button', { name: language === 'fr' ? 'Enregistrer' : 'Enroll' }).waitFor(),
      ),
    ).toEqual([]);
    await page.getByRole('textbox', { name: /^Name/ }).focus();
    await page.keyboard.type('Lobby printer');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Building A, ground floor');
    await page.keyboard.press('Enter');
    await page.getByText('Lobby printer is enrolled.', { exact: false }).waitFor();
    const tokens = await polling;
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();
    const listed = () =>
      api(host, token, 'GET', '/api/devices').then((r) => r.body.items as { id: string; name: string; location: string; status: string }[]);
    const lobby = (await listed()).find((device) => device.name === 'Lobby printer')!;
    expect(lobby).toMatchObject({ location: 'Building A, ground floor', status: 'connected' });
    await page.getByRole('row', { name: /Lobby printer/ }).waitFor();
    expect(
      await checkScreen(page, 'admin-printers-list', (language) =>
        page.getByRole('heading', { name: language === 'fr' ? 'Imprimantes enregistrées' : 'Enrolled printers' }).waitFor(),
      ),
    ).toEqual([]);

    // Rename and move, keyboard only; an empty name is refused next to the field.
    await tabTo(page, 'Edit: Lobby printer');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    await page.getByText('Enter a name of 1 to 100 characters.').waitFor();
    expect(problems.splice(0)).toEqual([BAD_REQUEST]);
    await page.keyboard.type('Reception printer');
    await page.keyboard.press('Tab');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('Building B, reception');
    await page.keyboard.press('Enter');
    await page.getByText('Reception printer is saved.').waitFor();
    expect((await listed()).find((device) => device.id === lobby.id)).toMatchObject({
      name: 'Reception printer',
      location: 'Building B, reception',
    });

    // Disconnect after a confirmation that says what it does.
    const openDisconnect = async (language: 'en' | 'fr') => {
      await page
        .getByRole('button', { name: language === 'fr' ? 'Déconnecter\u00a0: Reception printer' : 'Disconnect: Reception printer' })
        .focus();
      await page.keyboard.press('Enter');
      await page
        .getByRole('dialog')
        .getByText(language === 'fr' ? 'déconnectée immédiatement' : 'signed out at once', { exact: false })
        .waitFor();
    };
    expect(await checkDialog(page, 'admin-printers-disconnect', openDisconnect, () => page.keyboard.press('Escape'))).toEqual([]);
    await openDisconnect('en');
    await page.keyboard.press('Enter'); // first button: Disconnect the printer
    await page.getByText('Reception printer is disconnected.').waitFor();
    expect((await listed()).find((device) => device.id === lobby.id)!.status).toBe('disconnected');
    await page
      .getByRole('row', { name: /Reception printer/ })
      .getByText('Disconnected')
      .waitFor();

    expect(problems).toEqual([]);
    await context.close();
  });
});
