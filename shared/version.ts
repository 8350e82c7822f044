declare const __ROGER_VERSION__: string | undefined;

/** Set by the build (package.json version); `dev` when run from source. */
export const appVersion: string = typeof __ROGER_VERSION__ === 'string' ? __ROGER_VERSION__ : 'dev';
