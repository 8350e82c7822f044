import { Unavailable } from '../errors.js';

/**
 * The region has no app registration (or not its secret): Microsoft sign-in is off, everything
 * else works. Not the user's doing and not over in seconds.
 */
export function signInNotConfiguredProblem(): Unavailable {
  return new Unavailable(
    300,
    'Sign in with Microsoft is not available in this region yet: its Microsoft app registration is not configured. Ask your administrator.',
    {},
    'microsoft-sign-in-not-configured',
  );
}
