/** The program's version, from its package.json (clients/build-client.mjs defines it). */
declare const __ROGER_CLIENT_VERSION__: string;
