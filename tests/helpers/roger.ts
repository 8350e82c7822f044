import * as oauth from 'openid-client';
import type { TestHost } from './test-host.js';

/** Test-side helpers: a stock OAuth client (openid-client, unchanged) and plain fetch for the API. */
export const OPERATOR_KEY = 'test-operator-key-0123456789abcdef-xyz';

export const oauthEnv = {
  ROGER_OPERATOR_KEY: OPERATOR_KEY,
  DEVICE_CODE_POLL_INTERVAL_SECONDS: '1',
};

/**
 * RFC 8414 discovery for a public client. `bearer()` (printers) adds the device access token to
 * every request, as the EMB authenticates its /oauth calls with it.
 */
export async function oauthClient(host: TestHost, clientId: string, bearer?: () => string | undefined) {
  const config = await oauth.discovery(new URL(host.url), clientId, undefined, oauth.None(), {
    algorithm: 'oauth2',
    execute: [oauth.allowInsecureRequests],
  });
  config[oauth.customFetch] = (url, options) => {
    const token = bearer?.();
    return fetch(
      url,
      token ? { ...options, headers: { ...(options.headers as Record<string, string>), authorization: `Bearer ${token}` } } : options,
    );
  };
  return config;
}

export async function api(host: TestHost, token: string | undefined, method: string, path: string, body?: unknown) {
  const response = await fetch(`${host.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** One raw `POST /oauth/token` (form-encoded, as any OAuth client sends it), optionally with a printer's Bearer token. */
export async function tokenRequest(host: Pick<TestHost, 'url'>, fields: Record<string, string>, bearer?: string) {
  const response = await fetch(`${host.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export interface Person {
  email: string;
  username: string;
  fullName: string;
  password: string;
  pin?: string;
}

export async function createTenant(host: TestHost, slug: string, admin: Person, policy?: Record<string, unknown>) {
  const response = await fetch(`${host.url}/api/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY },
    body: JSON.stringify({ slug, name: `${slug} Ltd`, admin, ...(policy ? { policy } : {}) }),
  });
  if (response.status !== 201) throw new Error(`tenant ${slug}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; slug: string; adminId: string };
}

/** Mobile-app sign-in (password grant with the tenant slug). */
export async function mobileSignIn(host: TestHost, tenant: string, person: Person) {
  const config = await oauthClient(host, 'roger-mobile');
  return oauth.genericGrantRequest(config, 'password', {
    tenant,
    username: person.username,
    password: person.password,
    scope: 'jobs offline_access',
  });
}

/** Runs `work` and returns the OAuth error code it failed with. */
export async function oauthErrorOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) return error.error;
    throw error;
  }
  throw new Error('expected an OAuth error');
}

/** The Cosmos request count logged for the last request to `route`. */
export function lastCosmosRequests(host: TestHost, route: string): number {
  const line = [...host.logs].reverse().find((l) => l.includes(`route=${route} `));
  const match = line && /cosmosRequests=(\d+)/.exec(line);
  if (!match) throw new Error(`no request line for ${route}`);
  return Number(match[1]);
}
