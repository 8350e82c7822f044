import { oauth } from '@roger-cloud/client-kit/oauth';
import { qrText } from '@roger-cloud/client-kit/qr';
import { SCOPE } from '../credentials.js';

/**
 * Signing in on a machine without a browser (docs/clients.md#signing-in): the device
 * authorization grant (RFC 8628). roger shows a short code, the page to enter it on and a QR code
 * of the page with the code filled in, for the phone; the person approves there, while
 * openid-client polls at the interval the server asks for (and slows down when told to).
 */
export async function signInWithDevice(
  config: oauth.Configuration,
  say: (line: string) => void,
  signal?: AbortSignal,
): Promise<oauth.TokenEndpointResponse> {
  const authorization = await oauth.initiateDeviceAuthorization(config, { scope: SCOPE });
  const complete = authorization.verification_uri_complete ?? authorization.verification_uri;
  say(`To sign in, open ${authorization.verification_uri} and enter the code:`);
  say('');
  say(`    ${authorization.user_code}`);
  say('');
  say('or scan this with your phone:');
  say((await qrText(complete)).trimEnd());
  say(`Waiting for the approval (the code is valid for ${duration(authorization.expires_in)})…`);
  try {
    return await oauth.pollDeviceAuthorizationGrant(config, authorization, undefined, signal ? { signal } : undefined);
  } catch (error) {
    // openid-client stops polling by itself once expires_in has passed.
    if ((error as Error)?.name === 'TimeoutError')
      throw new Error('the code expired before it was approved: run `roger login --device` again', { cause: error });
    throw error;
  }
}

const duration = (seconds: number) => (seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`);
