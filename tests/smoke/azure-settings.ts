/**
 * Settings that name Azure endpoints, none of them reachable: enough for the Functions entry to
 * load (it refuses blank endpoints) and register its routes. Loading connects to nothing.
 */
export const azureSettings = {
  COSMOS_ENDPOINT: 'https://roger-smoke.documents.azure.com:443/',
  SERVICEBUS_NAMESPACE: 'roger-smoke.servicebus.windows.net',
  SERVICEBUS_LISTEN_KEY: 'smoke-listen-key-0123456789',
  ENTRA_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
  ENTRA_CLIENT_SECRET: 'smoke-client-secret',
  ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'smoke', key: Buffer.alloc(32, 7).toString('base64') }] }),
  ROGER_LOOKUP_KEYS: JSON.stringify({ keys: [{ kid: 'smoke', key: Buffer.alloc(32, 9).toString('base64') }] }),
} as const;
