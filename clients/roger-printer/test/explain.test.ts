import { describe, expect, it } from 'vitest';
import { ApiError } from '@roger-cloud/client-kit/http';
import { oauth } from '@roger-cloud/client-kit/oauth';
import { explain, explainBadgeRefusal, explainSignInRefusal } from '../src/explain.js';
import { pinNeeded, tooManyFailures } from '../src/panel-sign-in.js';

/** Every error line the agent prints (docs/clients.md#roger-printer): one line, the useful part, never a credential. */
describe('explain', () => {
  it('cuts out a SAS signature, whether in a connection string or a signed URL', () => {
    const sas = 'SharedAccessSignature sr=amqp%3A%2F%2Flocalhost%2Freleases&sig=c2VjcmV0&se=1&skn=printer';
    expect(explain(new Error(`cannot connect with Endpoint=sb://localhost/;SharedAccessSignature=${sas};x`))).not.toMatch(/c2VjcmV0|sig=c/);
    expect(explain(new Error('GET https://host/doc?sv=1&sig=c2VjcmV0&se=2 failed'))).toBe(
      'GET https://host/doc?sv=1&sig=[SAS]&se=2 failed',
    );
  });

  it('gives the last of the SDK’s gathered tries, the API’s status, and one line', () => {
    expect(explain(new AggregateError([new Error('first'), new Error('last\n  try')]))).toBe('last try');
    expect(explain(new ApiError(503, { title: 'Roger is busy' }))).toBe('Roger is busy (HTTP 503)');
  });

  it('says a turned-off way of signing in plainly, and a taken badge without saying whose', () => {
    const off = tokenError(400, { error: 'unauthorized_client', error_description: 'policy badgeSignIn is off' });
    expect(explainSignInRefusal(off, 'badge sign-in')).toBe('this organization does not use badge sign-in at its printers');
    const older = tokenError(400, { error: 'unsupported_grant_type', error_description: 'supported: password, refresh_token' });
    expect(explainSignInRefusal(older, 'PIN-only sign-in')).toBe('Roger does not offer PIN-only sign-in here yet');
    const wrong = tokenError(400, { error: 'invalid_grant', error_description: 'unknown badge or wrong PIN, or the account is locked' });
    expect(explainSignInRefusal(wrong, 'badge sign-in')).toBe('unknown badge or wrong PIN, or the account is locked');
    const taken = new ApiError(409, { type: 'tag:roger.cloud,2026:problems/badge-taken', title: 'Conflict', detail: 'badge-taken' });
    expect(explainBadgeRefusal(taken)).toBe('this badge is already registered in your organization');
    expect(explainBadgeRefusal(new ApiError(409, { type: 'tag:roger.cloud,2026:problems/conflict', detail: 'at most 10 badges' }))).toBe(
      'at most 10 badges (HTTP 409)',
    );
  });

  it('tells the badge grant asking for a PIN, and too many failures, from other refusals', () => {
    expect(
      pinNeeded(tokenError(400, { error: 'invalid_request', error_description: 'this organization also needs the pin parameter' })),
    ).toBe(true);
    expect(pinNeeded(tokenError(400, { error: 'invalid_request', error_description: 'badge is missing' }))).toBe(false);
    expect(pinNeeded(tokenError(400, { error: 'invalid_grant', error_description: 'wrong pin' }))).toBe(false);
    expect(tooManyFailures(tokenError(429, { error: 'temporarily_unavailable' }))).toBe(true);
    expect(tooManyFailures(tokenError(503, { error: 'temporarily_unavailable' }))).toBe(false);
  });
});

/** A token endpoint's error answer as openid-client throws it. */
function tokenError(status: number, body: { error: string; error_description?: string }) {
  return new oauth.ResponseBodyError('server responded with an error in the response body', {
    cause: body,
    response: new Response(JSON.stringify(body), { status }),
  });
}
