/**
 * Claims-based security ($cbs): the client sends `put-token` requests on a link to `$cbs` and
 * reads replies on its receiver link named by `reply_to`. A verified token becomes a claim held by
 * the connection; every later attach must be covered by an unexpired claim with the right it needs.
 */
import type { Message } from 'rhea';
import { covers, hasRight, verifyToken, type Claim, type Right, type SasRule } from './sas.js';

const SAS_TOKEN_TYPE = 'servicebus.windows.net:sastoken';
/** A connection renews its tokens every 45 min per link; keep the list bounded anyway. */
const MAX_CLAIMS_PER_CONNECTION = 256;

export class ClaimStore {
  private claims: Claim[] = [];

  add(claim: Claim, nowMs: number): void {
    this.claims = this.claims.filter((c) => c.expiresAtMs > nowMs && !(c.resource === claim.resource && c.keyName === claim.keyName));
    this.claims.push(claim);
    if (this.claims.length > MAX_CLAIMS_PER_CONNECTION) this.claims.shift();
  }

  /** A token whose expiry has passed no longer authorises anything new. */
  authorises(uri: string, right: Right, nowMs: number): boolean {
    return this.claims.some((c) => c.expiresAtMs > nowMs && covers(c.resource, uri) && hasRight(c.rights, right));
  }
}

export interface PutTokenResult {
  readonly statusCode: 202 | 400 | 401;
  readonly description: string;
  readonly claim?: Claim;
}

/**
 * Service Bus answers put-token 401 for a bad or expired token and for a token whose resource does
 * not prefix the audience ("InvalidAudience") — it authorises before it looks the entity up, so
 * nobody learns which entities exist. Missing rights (e.g. Listen-only and a sender) are only
 * refused at attach, where the link's direction is known.
 */
export function handlePutToken(request: Message, rules: ReadonlyMap<string, SasRule>, nowMs: number): PutTokenResult {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  const audience = props.name;
  const token: unknown = request.body;
  if (props.operation !== 'put-token' || typeof audience !== 'string' || typeof token !== 'string') {
    return { statusCode: 400, description: 'Expected a put-token request with a name and a token body.' };
  }
  if (props.type !== SAS_TOKEN_TYPE) {
    return { statusCode: 401, description: `Unsupported token type '${String(props.type)}': the local broker accepts SAS tokens only.` };
  }
  const check = verifyToken(token, rules, nowMs);
  if (!check.ok) return { statusCode: 401, description: check.reason };
  if (!covers(check.claim.resource, audience)) {
    return { statusCode: 401, description: 'InvalidAudience: The authorization header contains a token with a wrong audience.' };
  }
  return { statusCode: 202, description: 'Accepted', claim: check.claim };
}

/** The reply the SDK's CBS client waits for: correlated by the request's message_id. */
export function putTokenReply(request: Message, result: PutTokenResult): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    'status-code': result.statusCode,
    'status-description': result.description,
  };
  // Without this the SDK picks a condition from the status code (several map to 401).
  if (result.statusCode === 401) properties['error-condition'] = 'amqp:unauthorized-access';
  return { correlation_id: request.message_id, to: request.reply_to, application_properties: properties };
}
