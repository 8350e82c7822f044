import { Unreachable, isFetchFailure } from '@roger-cloud/client-kit/http';
import { oauth, oauthClient } from '@roger-cloud/client-kit/oauth';
import { CLIENT_ID } from '../credentials.js';

/**
 * roger's OAuth client for one regional API (RFC 8414 discovery through openid-client), with
 * what can go wrong said in words a person can act on rather than as a library's error.
 */
export async function connect(apiUrl: string): Promise<oauth.Configuration> {
  try {
    return await oauthClient(apiUrl, CLIENT_ID);
  } catch (error) {
    throw inWords(error, apiUrl);
  }
}

/** An openid-client or network error as one sentence; other errors unchanged. Never includes a token. */
export function inWords(error: unknown, apiUrl: string): Error {
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.AuthorizationResponseError) {
    const explained = OAUTH_ERRORS[error.error];
    const description = error.error_description ? ` (${error.error_description})` : '';
    return new Error(explained ? `${explained}${description}` : `the server refused: ${error.error}${description}`, { cause: error });
  }
  // fetch() failing outright: refused, reset, no such host.
  if (isFetchFailure(error)) return new Unreachable(apiUrl, error.cause ?? error);
  if (error instanceof oauth.ClientError) {
    return new Error(`${new URL(apiUrl).origin} does not answer as a Roger API: ${error.message}`, { cause: error });
  }
  return error as Error;
}

/** RFC 6749 §4.1.2.1 / §5.2 and RFC 8628 §3.5 codes, as they happen to someone signing in. */
const OAUTH_ERRORS: Record<string, string> = {
  access_denied: 'the sign-in was denied',
  expired_token: 'the code expired before it was approved: run `roger login --device` again',
  invalid_grant: 'the sign-in could not be completed (the code was used, expired or not meant for roger): run `roger login` again',
  invalid_scope: 'this account may not use roger (scope refused)',
  unauthorized_client: 'this server does not let roger sign in this way',
  invalid_client: 'this server does not know roger (client roger-desktop)',
  temporarily_unavailable: 'the sign-in service is busy: try again in a minute',
  server_error: 'the sign-in service failed: try again in a minute',
};
