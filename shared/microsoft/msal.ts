import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import {
  AuthError,
  ConfidentialClientApplication,
  CryptoProvider,
  LogLevel,
  type ICachePlugin,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config/load-config.js';
import { createTokenCipher, generatedTokenKeys, type TokenCipher } from '../onedrive/token-cipher.js';
import { GUID } from './guid.js';

/**
 * Sign in with Microsoft (docs/flows.md, Sign in with Microsoft): the app registration as MSAL
 * (`@azure/msal-node`) sees it. Loaded on first use, like the Graph SDK: only the functions that
 * talk to Entra ID for sign-in import it.
 *
 * One MSAL ConfidentialClientApplication is made per sign-in or refresh, holding that one user's
 * token cache (token-cache.ts), so the authority's metadata is fetched here once per process and
 * handed to each (MSAL then makes no discovery request of its own). Every request to Entra goes
 * through one network client with a time limit: a silent Entra fails the request in seconds,
 * not at the host's two-minute limit.
 */
export interface MicrosoftSignIn {
  readonly clientId: string;
  /** Seals MSAL caches and PKCE verifiers with the OneDrive key ring (ONEDRIVE_TOKEN_KEYS). */
  readonly cipher: TokenCipher;
  /** The configured authority (`…/organizations`). */
  readonly authority: string;
  /**
   * A client at the configured authority, or at one Entra tenant (`tid`: an admin's verification
   * sign-in after admin consent), with `cache` holding one user's MSAL cache.
   */
  client(options?: { tenant?: string; cache?: ICachePlugin }): Promise<ConfidentialClientApplication>;
  /** A PKCE pair (RFC 7636, S256), from MSAL's CryptoProvider. */
  pkce(): Promise<{ verifier: string; challenge: string }>;
  /** Entra's v2.0 admin-consent URL for this registration. */
  adminConsentUrl(input: { redirectUri: string; state: string; tenant?: string }): string;
  /**
   * The id_token's signature (the tenant's JWKS), issuer (the template with its own `tid`),
   * audience (our client id) and lifetime, checked with jose. MSAL checks state and nonce, not these.
   */
  verifyIdToken(idToken: string): Promise<JWTPayload>;
  /**
   * Loads the signing keys if they are not loaded yet (MicrosoftUnavailable when Entra does not
   * serve them): called before a single-use authorization code is redeemed, so that keys Entra
   * fails to serve do not cost the person the code.
   */
  signingKeysReady(): Promise<void>;
  close(): Promise<void>;
}

/** The app registration and how to reach its authority. */
export interface MicrosoftRegistration {
  readonly clientId: string;
  readonly clientSecret: string;
  /** e.g. https://login.microsoftonline.com/organizations (MSAL refuses anything but https). */
  readonly authority: string;
  /** Certificates trusted for the authority's TLS besides the public roots: a local stand-in's self-signed one. */
  readonly ca?: string | Buffer;
  /** Each request to Entra ID gives up after this long. Default 10 s. */
  readonly timeoutMs?: number;
}

/** Entra ID did not answer, answered too late, or answered 429/5xx. */
export class MicrosoftUnavailable extends AuthError {
  constructor(
    readonly retryAfterSeconds: number | undefined,
    message: string,
  ) {
    super('microsoft_unavailable', message);
    // AuthError resets the prototype to its own; instanceof must still name this class.
    Object.setPrototypeOf(this, MicrosoftUnavailable.prototype);
    this.name = 'MicrosoftUnavailable';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** A signing key we do not know is looked for again at most this often (Entra rotates keys; a forged kid must not make us fetch on every request). */
const JWKS_REFETCH_MS = 60_000;

export function configuredRegistration(config: Config): MicrosoftRegistration {
  const { clientId, clientSecret, authority } = config.microsoft;
  if (!clientId || !clientSecret) throw new Error('ENTRA_CLIENT_ID is not set: there is no app registration to sign in with Microsoft');
  return { clientId, clientSecret, authority };
}

export async function openMicrosoftSignIn(
  config: Config,
  now: () => Date,
  registration: MicrosoftRegistration = configuredRegistration(config),
): Promise<MicrosoftSignIn> {
  const { clientId, clientSecret, authority } = registration;
  const network = networkClient(registration.ca, registration.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const cipher = createTokenCipher(config.microsoft.tokenKeys ?? generatedTokenKeys());
  const crypto = new CryptoProvider();
  const instance = authority.replace(/\/[^/]+\/?$/, '');

  const metadata = new Map<string, Promise<{ authorityMetadata: string; cloudDiscoveryMetadata: string; document: AuthorityDocument }>>();
  function metadataOf(at: string) {
    let pending = metadata.get(at);
    if (!pending) {
      pending = (async () => {
        const discovery = await network.sendGetRequestAsync<AuthorityDocument>(`${at}/v2.0/.well-known/openid-configuration`);
        const cloud = await network.sendGetRequestAsync<unknown>(
          `${instance}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${at}/oauth2/v2.0/authorize`)}`,
        );
        if (discovery.status !== 200 || cloud.status !== 200) throw new MicrosoftUnavailable(undefined, 'Entra ID metadata was not served');
        return {
          authorityMetadata: JSON.stringify(discovery.body),
          cloudDiscoveryMetadata: JSON.stringify(cloud.body),
          document: discovery.body,
        };
      })();
      pending.catch(() => metadata.delete(at));
      metadata.set(at, pending);
    }
    return pending;
  }

  let keys: { set: ReturnType<typeof createLocalJWKSet>; fetchedAt: number } | undefined;
  async function signingKeys(force: boolean) {
    if (keys && !(force && Date.now() - keys.fetchedAt > JWKS_REFETCH_MS)) return keys.set;
    const { document } = await metadataOf(authority);
    const answer = await network.sendGetRequestAsync<{ keys: [] }>(document.jwks_uri);
    if (answer.status !== 200) throw new MicrosoftUnavailable(undefined, 'Entra ID signing keys were not served');
    keys = { set: createLocalJWKSet(answer.body), fetchedAt: Date.now() };
    return keys.set;
  }

  return {
    clientId,
    cipher,
    authority,
    async client(options = {}) {
      const at = options.tenant ? `${instance}/${options.tenant}` : authority;
      const { authorityMetadata, cloudDiscoveryMetadata } = await metadataOf(at);
      return new ConfidentialClientApplication({
        auth: { clientId, clientSecret, authority: at, authorityMetadata, cloudDiscoveryMetadata },
        ...(options.cache ? { cache: { cachePlugin: options.cache } } : {}),
        system: { networkClient: network, loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} } },
      });
    },
    pkce: () => crypto.generatePkceCodes(),
    adminConsentUrl({ redirectUri, state, tenant }) {
      const url = new URL(`${instance}/${tenant ?? 'organizations'}/v2.0/adminconsent`);
      url.search = new URLSearchParams({
        client_id: clientId,
        redirect_uri: redirectUri,
        state,
        scope: 'https://graph.microsoft.com/.default',
      }).toString();
      return url.toString();
    },
    async verifyIdToken(idToken) {
      const tid = decodeJwt(idToken).tid;
      if (typeof tid !== 'string' || !GUID.test(tid)) throw new Error('the id_token has no tenant id');
      const { document } = await metadataOf(authority);
      const options = {
        issuer: document.issuer.replace('{tenantid}', tid),
        audience: clientId,
        algorithms: ['RS256'],
        currentDate: now(),
        clockTolerance: 300,
      };
      try {
        return (await jwtVerify(idToken, await signingKeys(false), options)).payload;
      } catch (error) {
        if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
        return (await jwtVerify(idToken, await signingKeys(true), options)).payload;
      }
    },
    async signingKeysReady() {
      await signingKeys(false);
    },
    async close() {
      network.close();
    },
  };
}

interface AuthorityDocument {
  readonly issuer: string;
  readonly jwks_uri: string;
}

/**
 * MSAL's network module over node:https, with `ca` trusted besides the public roots, and a
 * time limit on every request (MSAL's default fetch client has none for POST). 429 and 5xx, and
 * no answer at all, become MicrosoftUnavailable, with Entra's Retry-After when it sent one.
 */
function networkClient(ca: string | Buffer | undefined, timeoutMs: number): INetworkModule & { close(): void } {
  const agent = new Agent({ keepAlive: true, ...(ca ? { ca: [...rootCertificates, ca.toString()] } : {}) });
  const send = <T>(url: string, method: 'GET' | 'POST', options?: NetworkRequestOptions, timeout?: number) =>
    new Promise<NetworkResponse<T>>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const limit = Math.min(timeout ?? timeoutMs, timeoutMs);
      const request = (secure ? httpsRequest : httpRequest)(
        target,
        { method, headers: options?.headers ?? {}, ...(secure ? { agent } : {}) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => fail(error));
          response.on('end', () => {
            clearTimeout(timer);
            const status = response.statusCode ?? 0;
            const headers = flatHeaders(response.headers);
            if (status === 429 || status >= 500) {
              const retryAfter = Number(headers['retry-after']);
              return reject(
                new MicrosoftUnavailable(
                  Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
                  `Entra ID answered ${status}`,
                ),
              );
            }
            try {
              resolve({ status, headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
            } catch {
              reject(new MicrosoftUnavailable(undefined, `Entra ID answered ${status} without JSON`));
            }
          });
        },
      );
      const fail = (error: unknown) => {
        clearTimeout(timer);
        reject(
          error instanceof MicrosoftUnavailable
            ? error
            : new MicrosoftUnavailable(undefined, `Entra ID cannot be reached (${code(error)})`),
        );
      };
      const timer = setTimeout(() => request.destroy(new MicrosoftUnavailable(undefined, 'Entra ID did not answer in time')), limit);
      request.on('error', fail);
      request.end(method === 'POST' ? (options?.body ?? '') : undefined);
    });
  return {
    sendGetRequestAsync: (url, options, timeout) => send(url, 'GET', options, timeout),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
    close: () => agent.destroy(),
  };
}

const code = (error: unknown) => (error instanceof Error && 'code' in error ? String(error.code) : 'network error');

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}
