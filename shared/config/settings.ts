import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '../string-enum.js';

/**
 * Every setting the app reads, with its schema, default and documentation.
 *
 * This table is the single source for: start-up validation (`loadConfig`), the configuration
 * table in docs/operations.md#settings (a test checks they match), `local.settings.example.json`
 * (a test checks every setting is there) and the app settings infra/main.bicep sets (the
 * parity test in tests/infra checks both directions).
 *
 * `where` says who sets it: `azure` settings are part of the Function App's configuration;
 * `local` settings only matter to the local host (`npm start`) and tests.
 */
export interface SettingSpec {
  /** How the raw string is read before the schema checks it. */
  readonly kind: 'string' | 'integer' | 'json';
  readonly schema: TSchema;
  readonly description: string;
  readonly where: 'azure' | 'local';
  /** A secret is never echoed back in error messages or docs. */
  readonly secret?: boolean;
  /** Human text for the default (defaults that depend on other settings are computed in loadConfig). */
  readonly defaultText?: string;
  /** Placeholder for local.settings.example.json: safe, never a real secret. */
  readonly example: string;
}

const regionFields = {
  id: Type.String({ pattern: '^[a-z]{2,8}$', description: 'Short region id, e.g. `eu`.' }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  apiUrl: Type.String({ format: 'uri', pattern: '^https?://' }),
  amqpUrl: Type.String({ format: 'uri', pattern: '^amqps?://' }),
};

/** The SDK connects over WebSockets only at this path (docs/flows.md#amqp-over-websockets). */
const AmqpWebSocketUrlSchema = Type.String({
  format: 'uri',
  pattern: '^wss?://[^/?#]+/\\$servicebus/websocket$',
  description: 'The same Service Bus namespace over AMQP over WebSockets: `wss://<namespace>/$servicebus/websocket` (port 443).',
});

/** A region as discovery answers it, and as the app holds it. */
export const RegionSchema = Type.Object({ ...regionFields, amqpWebSocketUrl: AmqpWebSocketUrlSchema }, { additionalProperties: false });
export type Region = Static<typeof RegionSchema>;

/**
 * A region as ROGER_REGIONS gives it: `amqpWebSocketUrl` may be left out, so that catalogs written
 * before it existed (a local.settings.json, a Function App not yet redeployed) still load;
 * loadConfig then derives it from `amqpUrl` (load-config.ts, amqpWebSocketUrlFor).
 */
export const RegionSettingSchema = Type.Object(
  { ...regionFields, amqpWebSocketUrl: Type.Optional(AmqpWebSocketUrlSchema) },
  { additionalProperties: false },
);
export type RegionSetting = Static<typeof RegionSettingSchema>;

export const RegionCatalogSchema = Type.Array(RegionSettingSchema, { minItems: 1, maxItems: 20 });

/** A JWKS holding private ES256 keys; the first one signs, all are published (rotation without downtime). */
export const SigningKeysSchema = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          kty: Type.Literal('EC'),
          crv: Type.Literal('P-256'),
          kid: Type.String({ minLength: 1, maxLength: 64 }),
          x: Type.String(),
          y: Type.String(),
          d: Type.String({ description: 'The private part: required, this is the signing key set.' }),
          alg: Type.Optional(Type.Literal('ES256')),
          use: Type.Optional(Type.Literal('sig')),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 5 },
    ),
  },
  { additionalProperties: false },
);
export type SigningKeys = Static<typeof SigningKeysSchema>;

/** A set of 32-byte secret keys with ids, rotated by tools/keys.ts (stage, promote, retire): the first is used, all are accepted. */
const SecretKeySetSchema = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          kid: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' }),
          key: Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: '32 bytes, base64.' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 5 },
    ),
  },
  { additionalProperties: false },
);

/** Keys that encrypt OneDrive refresh tokens at rest (AES-256-GCM); the first encrypts, all decrypt. */
export const OneDriveTokenKeysSchema = SecretKeySetSchema;
export type OneDriveTokenKeys = Static<typeof OneDriveTokenKeysSchema>;

/** HMAC-SHA256 keys for the keyed hashes of badge numbers and PINs (docs/security.md#badges); the first hashes, all are tried. */
export const LookupKeysSchema = SecretKeySetSchema;
export type LookupKeys = Static<typeof LookupKeysSchema>;

export const settingSpecs = {
  ROGER_REGION: {
    kind: 'string',
    schema: Type.String({ pattern: '^[a-z]{2,8}$' }),
    description: 'Id of the region this app serves; must be one of `ROGER_REGIONS`.',
    where: 'azure',
    defaultText: '`eu`',
    example: 'eu',
  },
  ROGER_REGIONS: {
    kind: 'json',
    schema: RegionCatalogSchema,
    description:
      "Region catalog served by discovery: JSON array of `{ id, name, apiUrl, amqpUrl, amqpWebSocketUrl }`, ids unique. `amqpWebSocketUrl` left out: derived from `amqpUrl` (`amqps://<namespace>` → `wss://<namespace>/$servicebus/websocket`; the local broker's `amqp://host:port` → `ws://host:port/$servicebus/websocket`).",
    where: 'azure',
    defaultText: '`eu` and `us`, both pointing at the local host (`http://localhost:<PORT>`)',
    example:
      '[{"id":"eu","name":"Europe","apiUrl":"http://localhost:7071","amqpUrl":"amqp://localhost:5672","amqpWebSocketUrl":"ws://localhost:5672/$servicebus/websocket"},{"id":"us","name":"United States","apiUrl":"http://localhost:7071","amqpUrl":"amqp://localhost:5672","amqpWebSocketUrl":"ws://localhost:5672/$servicebus/websocket"}]',
  },
  COSMOS_ENDPOINT: {
    kind: 'string',
    schema: Type.String({ format: 'uri', pattern: '^https?://' }),
    description:
      'Regional Cosmos DB account endpoint. Unset: the local run starts a Cosmos-compatible server in process (data kept in memory only). Required in Azure.',
    where: 'azure',
    defaultText: 'in-process local server',
    example: '',
  },
  COSMOS_KEY: {
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    description:
      'Account key for `COSMOS_ENDPOINT`, for local runs against a real account only. Unset: Microsoft Entra ID via `DefaultAzureCredential` (managed identity in Azure).',
    where: 'local',
    secret: true,
    example: '',
  },
  COSMOS_DATABASE: {
    kind: 'string',
    schema: Type.String({ pattern: '^[A-Za-z0-9-_]{1,255}$' }),
    description: 'Database name in the regional account.',
    where: 'azure',
    defaultText: '`roger`',
    example: 'roger',
  },
  DIRECTORY_COSMOS_ENDPOINT: {
    kind: 'string',
    schema: Type.String({ format: 'uri', pattern: '^https?://' }),
    description: 'Global Cosmos DB account holding the tenant directory (slug → region, nothing personal). Unset: the regional account.',
    where: 'azure',
    defaultText: 'the regional account',
    example: '',
  },
  DIRECTORY_COSMOS_KEY: {
    kind: 'string',
    schema: Type.String({ minLength: 1 }),
    description: 'Account key for `DIRECTORY_COSMOS_ENDPOINT`, local runs only; unset: Entra ID.',
    where: 'local',
    secret: true,
    example: '',
  },
  DIRECTORY_COSMOS_DATABASE: {
    kind: 'string',
    schema: Type.String({ pattern: '^[A-Za-z0-9-_]{1,255}$' }),
    description: 'Database name of the tenant directory.',
    where: 'azure',
    defaultText: '`roger-directory`',
    example: 'roger-directory',
  },
  AZURE_CLIENT_ID: {
    kind: 'string',
    schema: Type.String({ pattern: '^[0-9a-fA-F-]{36}$' }),
    description:
      'Client id of the user-assigned managed identity the app uses for Cosmos DB and Service Bus (`DefaultAzureCredential`). Unset: `DefaultAzureCredential` picks a credential itself (Azure CLI sign-in on a developer machine).',
    where: 'azure',
    defaultText: 'unset',
    example: '',
  },
  HTTP_BODY_LIMIT_BYTES: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 1024, maximum: 1048576 }),
    description: 'Largest accepted request body; larger bodies get 413.',
    where: 'azure',
    defaultText: '`65536`',
    example: '65536',
  },
  TRUSTED_PROXY_HOPS: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 1, maximum: 5 }),
    description:
      "How many proxies of the platform stand in front of the app, each appending the address it was reached from to `X-Forwarded-For`. The client's address (login history, rate limits of anonymous callers) is that many entries from the right; whatever the client wrote before them is ignored. `1`: App Service's front end alone — the regional API as deployed, reached at its own host name (the local host appends the socket address the same way). `2`: Azure Front Door before it, only if the API is routed through Front Door and closed to direct calls — what infra/main.bicep sets when a custom domain puts each region's API behind Front Door. Too high trusts an address the client wrote; too low records a proxy's.",
    where: 'azure',
    defaultText: '`1`',
    example: '1',
  },
  DISCOVERY_CACHE_SECONDS: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 0, maximum: 86400 }),
    description: '`Cache-Control: max-age` of the discovery responses.',
    where: 'azure',
    defaultText: '`300`',
    example: '300',
  },
  WEB_APP_SERVED: {
    kind: 'string',
    schema: StringEnum(['on', 'off']),
    description:
      "`on`: this region's own host serves the web app under `/app/` (docs/web-app.md), so a printer's QR code (`verification_uri_complete`) opens its approve screen, `/app/approve?code=…`. `off`: the QR code opens the no-JavaScript page, `/device?user_code=…`, which every deployment serves. infra/main.bicep sets `on` exactly when the region has a custom domain (the Front Door route to the web app exists only then); the local host (`npm start`, tests with a web root) turns it on when it serves web/dist.",
    where: 'azure',
    defaultText: '`off` (`on` under `npm start`)',
    example: 'off',
  },
  ROGER_SIGNING_KEYS: {
    kind: 'json',
    schema: SigningKeysSchema,
    description:
      'Access-token signing keys: a JWKS of private ES256 (P-256) keys with `kid`s. The first signs; all are published at `/.well-known/jwks.json` (rotation with `tools/keys.ts`: stage, promote, retire; infra/README.md). Unset: the local run generates one key per process. Required in Azure (a Key Vault reference).',
    where: 'azure',
    secret: true,
    defaultText: 'a key generated at start (local runs)',
    example: '',
  },
  ROGER_OPERATOR_KEY: {
    kind: 'string',
    schema: Type.String({ minLength: 32, maxLength: 256 }),
    description:
      'Key the operator sends as `x-operator-key` to create tenants (`POST /api/tenants`); at least 32 characters. Unset: tenant creation is disabled.',
    where: 'azure',
    secret: true,
    defaultText: 'unset (tenant creation disabled)',
    example: '',
  },
  ACCESS_TOKEN_LIFETIME_SECONDS: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 60, maximum: 3600 }),
    description: 'Lifetime of access and session tokens (docs/flows.md#tokens).',
    where: 'azure',
    defaultText: '`1200` (20 minutes)',
    example: '1200',
  },
  DEVICE_CODE_POLL_INTERVAL_SECONDS: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 1, maximum: 60 }),
    description: 'Minimum seconds between device-code polls (RFC 8628 `interval`); faster polls get `slow_down`.',
    where: 'azure',
    defaultText: '`5`',
    example: '5',
  },
  SERVICEBUS_NAMESPACE: {
    kind: 'string',
    schema: Type.String({ pattern: '^[A-Za-z0-9.-]+$', maxLength: 253 }),
    description:
      'Fully qualified Service Bus namespace (e.g. `roger-eu.servicebus.windows.net`); the app sends with its managed identity. Unset: the local run starts an AMQP broker in process. Required in Azure.',
    where: 'azure',
    defaultText: 'in-process local broker',
    example: '',
  },
  SERVICEBUS_LISTEN_KEY_NAME: {
    kind: 'string',
    schema: Type.String({ pattern: '^[A-Za-z0-9._-]{1,256}$' }),
    description:
      'Name of the Listen-only shared access rule whose key signs printer SAS tokens (docs/security.md#printer-credentials-sas-scope).',
    where: 'azure',
    defaultText: '`printer-listen`',
    example: 'printer-listen',
  },
  SERVICEBUS_LISTEN_KEY: {
    kind: 'string',
    schema: Type.String({ minLength: 16, maxLength: 256 }),
    description:
      'Key of that Listen-only rule (a Key Vault reference in Azure). Unset locally: the local broker makes one. Required in Azure.',
    where: 'azure',
    secret: true,
    defaultText: 'generated by the local broker',
    example: '',
  },
  RELEASE_TOPIC_COUNT: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 1, maximum: 100 }),
    description:
      'How many release topics new printers are spread over, `releases-00` up to `releases-NN` (docs/flows.md#release-to-printers). The topics must exist before this is raised: infra/main.bicep creates them from its `releaseTopicCount` parameter and sets this from it (docs/operations.md#adding-release-topics). Printers enrolled before sharding keep the topic `releases`.',
    where: 'azure',
    defaultText: '`3`',
    example: '3',
  },
  RELEASE_TOPIC_CAPACITY: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 1, maximum: 2000 }),
    description:
      "Printers (subscriptions) per release topic before enrollment moves on to the next: a margin under Service Bus's 2,000 subscriptions per topic. When every topic is full, enrollment answers 503 `release-topics-full` until topics are added.",
    where: 'azure',
    defaultText: '`1900`',
    example: '1900',
  },
  SERVICEBUS_LOCAL_PORT: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 0, maximum: 65535 }),
    description: 'Port of the in-process broker when `SERVICEBUS_NAMESPACE` is unset (0: any free port).',
    where: 'local',
    defaultText: '`5672`',
    example: '5672',
  },
  ENTRA_CLIENT_ID: {
    kind: 'string',
    schema: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }),
    description:
      "Application (client) id of the Entra ID app registration used to connect users' OneDrive (docs/operations.md#the-entra-app-registration). Unset: the local run starts a stand-in for Entra ID and Graph in process. Required in Azure.",
    where: 'azure',
    defaultText: 'in-process local Entra ID and Graph',
    example: '',
  },
  ENTRA_CLIENT_SECRET: {
    kind: 'string',
    schema: Type.String({ minLength: 8, maxLength: 512 }),
    description:
      'Client secret of that app registration (a Key Vault reference in Azure). Unset with `ENTRA_CLIENT_ID` set, or a Key Vault reference App Service could not resolve: OneDrive and Sign in with Microsoft are off (OneDrive routes answer 503 `onedrive-not-configured`, the sign-in page offers only passwords, connecting Entra ID answers 503 `microsoft-sign-in-not-configured`, `/health` reports `onedrive: disabled`) and everything else works.',
    where: 'azure',
    defaultText: 'unset (with `ENTRA_CLIENT_ID`: OneDrive and Microsoft sign-in off)',
    secret: true,
    example: '',
  },
  ENTRA_AUTHORITY: {
    kind: 'string',
    schema: Type.String({ format: 'uri', pattern: '^https?://[^?#]+[^/?#]$' }),
    description:
      'Entra ID authority; `/oauth2/v2.0/authorize` and `/oauth2/v2.0/token` are appended. `organizations` admits any work or school account (OneDrive for Business).',
    where: 'azure',
    defaultText: '`https://login.microsoftonline.com/organizations`',
    example: 'https://login.microsoftonline.com/organizations',
  },
  GRAPH_BASE_URL: {
    kind: 'string',
    schema: Type.String({ format: 'uri', pattern: '^https?://[^/?#]+$' }),
    description: 'Microsoft Graph origin (the API version `v1.0` is added by the app); national clouds have their own.',
    where: 'azure',
    defaultText: '`https://graph.microsoft.com`',
    example: 'https://graph.microsoft.com',
  },
  ONEDRIVE_TOKEN_KEYS: {
    kind: 'json',
    schema: OneDriveTokenKeysSchema,
    description:
      'AES-256-GCM keys that seal users\' MSAL token caches (their Entra refresh tokens, for sign-in and OneDrive): `{"keys":[{"kid","key"}]}` with `key` 32 random bytes in base64. The first encrypts; all decrypt (rotation with `tools/keys.ts`: stage, promote, retire; infra/README.md). Unset: the local run generates one per process. Required in Azure (a Key Vault reference).',
    where: 'azure',
    secret: true,
    defaultText: 'a key generated at start (local runs)',
    example: '',
  },
  ROGER_LOOKUP_KEYS: {
    kind: 'json',
    schema: LookupKeysSchema,
    description:
      'HMAC-SHA256 keys of the keyed hashes that find a badge or a PIN without storing it (docs/security.md#badges): `{"keys":[{"kid","key"}]}` with `key` 32 random bytes in base64. The first hashes what is stored; all are tried on lookup (rotation with `tools/keys.ts`: stage, promote, retire; infra/README.md). Unset: the local run generates one per process. Required in Azure (a Key Vault reference).',
    where: 'azure',
    secret: true,
    defaultText: 'a key generated at start (local runs)',
    example: '',
  },
  MICROSOFT_LOCAL_PORT: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 0, maximum: 65535 }),
    description: 'Port of the in-process Entra ID and Graph stand-in when `ENTRA_CLIENT_ID` is unset (0: any free port).',
    where: 'local',
    defaultText: '`7072`',
    example: '7072',
  },
  PORT: {
    kind: 'integer',
    schema: Type.Integer({ minimum: 1, maximum: 65535 }),
    description: 'Port of the local host (`npm start`). Not used by the Functions host.',
    where: 'local',
    defaultText: '`7071`',
    example: '7071',
  },
  TELEMETRY_CONSOLE: {
    kind: 'string',
    schema: StringEnum(['on', 'off']),
    description:
      '`on`: the local host prints its telemetry (metrics, dependency spans, log records with their attributes) to the console, as Azure Monitor would receive it (docs/operations.md#telemetry). In Azure, telemetry goes to Application Insights whenever the host sets `APPLICATIONINSIGHTS_CONNECTION_STRING`.',
    where: 'local',
    defaultText: '`off`',
    example: 'off',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof settingSpecs;
export const settingNames = Object.keys(settingSpecs) as SettingName[];
