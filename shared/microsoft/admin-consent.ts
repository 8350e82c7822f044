import { Forbidden, Invalid } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { deleteIfUnchanged } from '../store/conditional-replace.js';
import { hashSecret, newSecret } from '../tokens/secrets.js';
import type { UserDoc } from '../users/users.js';
import type { Language } from '../web/i18n.js';
import { GUID } from './guid.js';
import { startBindingSignIn } from './sign-in.js';

/**
 * "Connect Microsoft Entra ID" (docs/flows.md, Sign in with Microsoft): a Roger admin sends an
 * administrator of their Microsoft organisation through Entra's admin consent for our app
 * registration. Entra then returns the browser with `admin_consent=True&tenant=<tid>`, but that
 * `tenant` is not authenticated: anyone can type such a URL. So the browser goes on through a
 * Microsoft sign-in at that `tid` (sign-in.ts, purpose `bind`), and the `tid` is bound only when
 * the signed-in account's id_token says the same `tid`.
 *
 * The consent's `state` is stored like OneDrive's (deviceCodes, hashed id, 10 minutes, single use).
 */
export const CONSENT_CALLBACK_PATH = '/api/tenant/entra/callback';
const CONSENT_LIFETIME_SECONDS = 600;

interface ConsentStateDoc {
  readonly id: string;
  readonly type: 'entra-consent';
  readonly tenantId: string;
  readonly userId: string;
  readonly expiresAt: string;
  readonly ttl: number;
  readonly _etag?: string;
}

const consentStateId = (state: string) => `entra-consent:${hashSecret(state)}`;

/** For the admin as read in this request (never the token's role claim). */
export async function startAdminConsent(services: Services, admin: Pick<UserDoc, 'tenantId' | 'id' | 'role'>) {
  if (admin.role !== 'admin') throw new Forbidden('only admins may connect Microsoft Entra ID');
  const microsoft = await services.microsoft();
  const state = newSecret(32);
  const id = consentStateId(state);
  const expiresAt = new Date(services.now().getTime() + CONSENT_LIFETIME_SECONDS * 1000).toISOString();
  await services.store.container('deviceCodes').items.create<ConsentStateDoc>({
    id,
    type: 'entra-consent',
    tenantId: admin.tenantId,
    userId: admin.id,
    expiresAt,
    ttl: CONSENT_LIFETIME_SECONDS,
  });
  return {
    adminConsentUrl: microsoft.adminConsentUrl({ redirectUri: `${services.config.oauth.issuer}${CONSENT_CALLBACK_PATH}`, state }),
    expiresAt,
  };
}

/** The consent came back: spends its state and starts the verification sign-in at `tid`. */
export async function continueAdminConsent(
  services: Services,
  input: { state: string; tenant: string; lang: Language },
  log: Logger,
): Promise<{ url: string; setCookie: string }> {
  if (!GUID.test(input.tenant)) throw new Invalid('Microsoft named no organisation; start again from Roger');
  const id = consentStateId(input.state);
  const container = services.store.container('deviceCodes');
  const { resource } = await container.item(id, id).read<ConsentStateDoc>();
  if (resource?.type !== 'entra-consent' || Date.parse(resource.expiresAt) <= services.now().getTime()) {
    throw new Invalid('this link expired or was used already; start again from Roger');
  }
  if (!(await deleteIfUnchanged(container, resource, id))) throw new Invalid('this link was used already; start again from Roger');
  log.info('entra-admin-consent-returned', { tenantId: resource.tenantId });
  return startBindingSignIn(services, {
    tenantId: resource.tenantId,
    adminUserId: resource.userId,
    consentedTid: input.tenant,
    lang: input.lang,
  });
}
