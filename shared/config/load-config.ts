import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import {
  settingSpecs,
  settingNames,
  type Region,
  type RegionSetting,
  type SettingName,
  type SettingSpec,
  type LookupKeys,
  type OneDriveTokenKeys,
  type SigningKeys,
} from './settings.js';

// ajv-formats is CommonJS with a default export; under NodeNext its type is the module namespace.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface CosmosAccountConfig {
  /** Unset: the local run starts an in-process Cosmos-compatible server. */
  readonly endpoint?: string;
  /** Unset: Microsoft Entra ID (DefaultAzureCredential). */
  readonly key?: string;
  readonly database: string;
}

export interface Config {
  readonly port: number;
  readonly region: Region;
  readonly regions: readonly Region[];
  readonly cosmos: CosmosAccountConfig;
  /** The tenant directory's account; the regional account when not configured separately. */
  readonly directory: CosmosAccountConfig;
  readonly http: {
    readonly bodyLimitBytes: number;
    /** Proxies that append to X-Forwarded-For in front of the app (clientIp). */
    readonly trustedProxyHops: number;
  };
  readonly discovery: { readonly cacheMaxAgeSeconds: number };
  readonly oauth: {
    /** This region's issuer identifier (RFC 8414): its API URL. Also the tokens' audience. */
    readonly issuer: string;
    /** Unset: generate a key at start (local runs only; Azure requires configured keys). */
    readonly signingKeys?: SigningKeys;
    readonly accessTokenLifetimeSeconds: number;
    readonly pollIntervalSeconds: number;
    /** This host serves the web app under /app/ (WEB_APP_SERVED): QR codes open its approve screen, else /device. */
    readonly webAppServed: boolean;
  };
  /** Unset: tenant creation is disabled. */
  readonly operatorKey?: string;
  /** Keys of the badge and PIN keyed hashes (ROGER_LOOKUP_KEYS). Unset: one generated per process (local runs only). */
  readonly lookupKeys?: LookupKeys;
  /** The user-assigned managed identity for Cosmos DB and Service Bus; unset: DefaultAzureCredential's own choice. */
  readonly managedIdentityClientId?: string;
  readonly serviceBus: {
    /** Unset: a local broker in process (local runs only). */
    readonly namespace?: string;
    readonly listenKeyName: string;
    readonly listenKey?: string;
    readonly localPort: number;
    /** Release topics `releases-00 …` that new printers are spread over (docs/flows.md#release-to-printers). */
    readonly releaseTopicCount: number;
    /** Printers per release topic, under Service Bus's 2,000 subscriptions per topic. */
    readonly releaseTopicCapacity: number;
  };
  /** Local runs only: print telemetry to the console (Azure turns it on with the host's Application Insights settings). */
  readonly telemetry: { readonly console: boolean };
  /** Entra ID and Graph, for OneDrive (docs/flows.md#onedrive-for-business). */
  readonly microsoft: {
    /** Unset: a local stand-in for Entra ID and Graph in process (local runs only). */
    readonly clientId?: string;
    readonly clientSecret?: string;
    /**
     * Set when OneDrive is off: a registration without its secret (ENTRA_CLIENT_SECRET unset, or
     * a Key Vault reference App Service could not resolve). Says why, naming the setting only.
     */
    readonly disabledBecause?: string;
    readonly authority: string;
    readonly graphBaseUrl: string;
    readonly localPort: number;
    /** Unset: a key generated at start (local runs only). */
    readonly tokenKeys?: OneDriveTokenKeys;
  };
}

/** Thrown by loadConfig with one line per bad or missing setting. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Settings whose absence switches one feature off instead of stopping start-up. The Entra
 * client secret cannot be in a Key Vault the first deployment has only just created, and a
 * region without OneDrive is still worth running (its routes answer 503 onedrive-not-configured).
 */
const FEATURE_SETTINGS: ReadonlySet<SettingName> = new Set(['ENTRA_CLIENT_SECRET']);

const isKeyVaultReference = (raw: string) => /^@Microsoft\.KeyVault\(/i.test(raw);

let ajv: Ajv | undefined;
const validators = new Map<SettingName, ReturnType<Ajv['compile']>>();

function validatorFor(name: SettingName) {
  let validate = validators.get(name);
  if (!validate) {
    ajv ??= addFormats(new Ajv({ allErrors: false, strict: true }));
    validate = ajv.compile(settingSpecs[name].schema);
    validators.set(name, validate);
  }
  return validate;
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath ? ` at ${error.instancePath}` : '';
  return `${error.message ?? 'is invalid'}${where}`;
}

/** Reads one raw setting: undefined when unset or blank (Azure app settings cannot be "unset" by blanking). */
function readSetting(name: SettingName, env: Environment, problems: string[]): unknown {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const spec: SettingSpec = settingSpecs[name];
  // App Service leaves a Key Vault reference it cannot resolve in place, as text. Read as a
  // value, it would become e.g. a guessable operator key: refuse to start instead (or, for a
  // feature's setting, read it as unset: loadConfig turns the feature off).
  if (isKeyVaultReference(raw)) {
    if (FEATURE_SETTINGS.has(name)) return undefined;
    problems.push(
      `${name}: is a Key Vault reference that App Service could not resolve (does the secret exist, and may the app's identity read it?)`,
    );
    return undefined;
  }
  const shown = spec.secret ? '' : ` (got ${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)})`;
  let value: unknown = raw;
  if (spec.kind === 'integer') {
    if (!/^-?\d+$/.test(raw)) {
      problems.push(`${name}: must be a whole number${shown}`);
      return undefined;
    }
    value = Number(raw);
  } else if (spec.kind === 'json') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      const reason = spec.secret ? '' : ` (${(error as Error).message})`;
      problems.push(`${name}: is not valid JSON${reason}`);
      return undefined;
    }
  }
  const validate = validatorFor(name);
  if (!validate(value)) {
    problems.push(`${name}: ${describeError(validate.errors![0]!)}${spec.kind === 'json' ? '' : shown}`);
    return undefined;
  }
  return value;
}

/** The path Service Bus serves AMQP over WebSockets on; the SDK asks for no other. */
const WEBSOCKET_PATH = '/$servicebus/websocket';

/**
 * Where a region's printers reach Service Bus over WebSockets when ROGER_REGIONS does not say
 * (docs/flows.md#amqp-over-websockets). Azure serves AMQP over WebSockets on 443 whatever port
 * AMQPS uses, so `amqps://<namespace>[:port]` becomes `wss://<namespace>/$servicebus/websocket`;
 * the local broker serves both on one port, so `amqp://host:port` keeps its port under `ws://`.
 */
export function amqpWebSocketUrlFor(amqpUrl: string): string {
  const url = new URL(amqpUrl);
  const tls = url.protocol === 'amqps:';
  return `${tls ? 'wss' : 'ws'}://${tls ? url.hostname : url.host}${WEBSOCKET_PATH}`;
}

function localRegions(port: number): RegionSetting[] {
  const apiUrl = `http://localhost:${port}`;
  const amqpUrl = 'amqp://localhost:5672';
  return [
    { id: 'eu', name: 'Europe', apiUrl, amqpUrl },
    { id: 'us', name: 'United States', apiUrl, amqpUrl },
  ];
}

/**
 * Reads and validates every setting. The only reader of the environment in the app: everything
 * else receives the Config it returns. Throws ConfigError naming every bad setting at once.
 */
export function loadConfig(env: Environment = process.env): Config {
  const problems: string[] = [];
  const values = {} as Record<SettingName, unknown>;
  for (const name of settingNames) values[name] = readSetting(name, env, problems);

  const port = (values.PORT as number | undefined) ?? 7071;
  const regions: Region[] = ((values.ROGER_REGIONS as RegionSetting[] | undefined) ?? localRegions(port)).map((region) => ({
    ...region,
    amqpWebSocketUrl: region.amqpWebSocketUrl ?? amqpWebSocketUrlFor(region.amqpUrl),
  }));
  const regionId = (values.ROGER_REGION as string | undefined) ?? 'eu';

  const seen = new Set<string>();
  for (const { id } of regions) {
    if (seen.has(id)) problems.push(`ROGER_REGIONS: region id "${id}" appears twice`);
    seen.add(id);
  }
  const region = regions.find((r) => r.id === regionId);
  const regionSettingsValid = !problems.some((p) => p.startsWith('ROGER_REGION'));
  if (!region && regionSettingsValid) {
    const ids = regions.map((r) => r.id).join(', ');
    problems.push(`ROGER_REGION: "${regionId}" is not one of the region ids in ROGER_REGIONS (${ids})`);
  }

  // App Service sets WEBSITE_SITE_NAME in every Function App. There, an unset endpoint would
  // silently mean "in-memory database": refuse to start instead.
  if (env.WEBSITE_SITE_NAME) {
    // Per-process keys would make every instance reject the others' tokens.
    const required = [
      'COSMOS_ENDPOINT',
      'ROGER_SIGNING_KEYS',
      'SERVICEBUS_NAMESPACE',
      'SERVICEBUS_LISTEN_KEY',
      'ENTRA_CLIENT_ID',
      'ONEDRIVE_TOKEN_KEYS',
      'ROGER_LOOKUP_KEYS',
    ] as const;
    for (const name of required) {
      if (values[name] === undefined && !problems.some((p) => p.startsWith(`${name}:`))) {
        problems.push(`${name}: is required when running in Azure (WEBSITE_SITE_NAME is set)`);
      }
    }
  }
  const signingKeys = values.ROGER_SIGNING_KEYS as SigningKeys | undefined;
  if (signingKeys && new Set(signingKeys.keys.map((k) => k.kid)).size !== signingKeys.keys.length) {
    problems.push('ROGER_SIGNING_KEYS: two keys share a kid');
  }
  if (values.DIRECTORY_COSMOS_KEY !== undefined && values.DIRECTORY_COSMOS_ENDPOINT === undefined) {
    problems.push('DIRECTORY_COSMOS_KEY: is set without DIRECTORY_COSMOS_ENDPOINT');
  }
  if (values.SERVICEBUS_NAMESPACE !== undefined && values.SERVICEBUS_LISTEN_KEY === undefined) {
    problems.push('SERVICEBUS_LISTEN_KEY: is required with SERVICEBUS_NAMESPACE (it signs printer SAS tokens)');
  }
  if (values.ENTRA_CLIENT_ID !== undefined) {
    // A configured app registration means the real Entra ID: a per-process key would make
    // stored refresh tokens unreadable on every other instance.
    if (values.ONEDRIVE_TOKEN_KEYS === undefined && !problems.some((p) => p.startsWith('ONEDRIVE_TOKEN_KEYS:'))) {
      problems.push('ONEDRIVE_TOKEN_KEYS: is required with ENTRA_CLIENT_ID');
    }
  }
  const rawSecret = env.ENTRA_CLIENT_SECRET?.trim() ?? '';
  const disabledBecause =
    values.ENTRA_CLIENT_ID === undefined || values.ENTRA_CLIENT_SECRET !== undefined
      ? undefined
      : isKeyVaultReference(rawSecret)
        ? 'ENTRA_CLIENT_SECRET is a Key Vault reference App Service could not resolve'
        : rawSecret === ''
          ? 'ENTRA_CLIENT_SECRET is not set'
          : undefined;
  const tokenKeys = values.ONEDRIVE_TOKEN_KEYS as OneDriveTokenKeys | undefined;
  const lookupKeys = values.ROGER_LOOKUP_KEYS as LookupKeys | undefined;
  // A kid names one key: rotation (tools/keys.ts) and stored hashes and seals point at keys by it.
  for (const [name, set] of [
    ['ONEDRIVE_TOKEN_KEYS', tokenKeys],
    ['ROGER_LOOKUP_KEYS', lookupKeys],
  ] as const) {
    if (set && new Set(set.keys.map((k) => k.kid)).size !== set.keys.length) problems.push(`${name}: two keys share a kid`);
  }
  if (values.COSMOS_KEY !== undefined && values.COSMOS_ENDPOINT === undefined) {
    problems.push('COSMOS_KEY: is set without COSMOS_ENDPOINT');
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const cosmos: CosmosAccountConfig = {
    endpoint: values.COSMOS_ENDPOINT as string | undefined,
    key: values.COSMOS_KEY as string | undefined,
    database: (values.COSMOS_DATABASE as string | undefined) ?? 'roger',
  };
  const directoryDatabase = (values.DIRECTORY_COSMOS_DATABASE as string | undefined) ?? 'roger-directory';
  const directory: CosmosAccountConfig =
    values.DIRECTORY_COSMOS_ENDPOINT === undefined
      ? { endpoint: cosmos.endpoint, key: cosmos.key, database: directoryDatabase }
      : {
          endpoint: values.DIRECTORY_COSMOS_ENDPOINT as string,
          key: values.DIRECTORY_COSMOS_KEY as string | undefined,
          database: directoryDatabase,
        };

  return {
    port,
    telemetry: { console: values.TELEMETRY_CONSOLE === 'on' },
    region: region!,
    regions,
    cosmos,
    directory,
    http: {
      bodyLimitBytes: (values.HTTP_BODY_LIMIT_BYTES as number | undefined) ?? 65536,
      trustedProxyHops: (values.TRUSTED_PROXY_HOPS as number | undefined) ?? 1,
    },
    discovery: { cacheMaxAgeSeconds: (values.DISCOVERY_CACHE_SECONDS as number | undefined) ?? 300 },
    oauth: {
      issuer: region!.apiUrl,
      signingKeys,
      accessTokenLifetimeSeconds: (values.ACCESS_TOKEN_LIFETIME_SECONDS as number | undefined) ?? 1200,
      pollIntervalSeconds: (values.DEVICE_CODE_POLL_INTERVAL_SECONDS as number | undefined) ?? 5,
      webAppServed: values.WEB_APP_SERVED === 'on',
    },
    operatorKey: values.ROGER_OPERATOR_KEY as string | undefined,
    lookupKeys,
    managedIdentityClientId: values.AZURE_CLIENT_ID as string | undefined,
    serviceBus: {
      namespace: values.SERVICEBUS_NAMESPACE as string | undefined,
      listenKeyName: (values.SERVICEBUS_LISTEN_KEY_NAME as string | undefined) ?? 'printer-listen',
      listenKey: values.SERVICEBUS_LISTEN_KEY as string | undefined,
      localPort: (values.SERVICEBUS_LOCAL_PORT as number | undefined) ?? 5672,
      releaseTopicCount: (values.RELEASE_TOPIC_COUNT as number | undefined) ?? 3,
      releaseTopicCapacity: (values.RELEASE_TOPIC_CAPACITY as number | undefined) ?? 1900,
    },
    microsoft: {
      clientId: values.ENTRA_CLIENT_ID as string | undefined,
      clientSecret: values.ENTRA_CLIENT_SECRET as string | undefined,
      ...(disabledBecause ? { disabledBecause } : {}),
      authority: (values.ENTRA_AUTHORITY as string | undefined) ?? 'https://login.microsoftonline.com/organizations',
      graphBaseUrl: (values.GRAPH_BASE_URL as string | undefined) ?? 'https://graph.microsoft.com',
      localPort: (values.MICROSOFT_LOCAL_PORT as number | undefined) ?? 7072,
      tokenKeys,
    },
  };
}
