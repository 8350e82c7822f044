import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpWebSocketUrlFor, loadConfig } from '../../shared/config/load-config.js';
import { releaseTopics } from '../../shared/messaging/messaging.js';
import { oauthClients } from '../../shared/oauth/clients.js';
import { containerSpecs, type ContainerSpec } from '../../shared/store/containers.js';
import { GRAPH_UPLOAD_ORIGIN, serveWebApp, webAppCsp } from '../../tools/local-web.js';
import { bicep, deployedResources, Opaque, parameterValues, show, type DeployedResource, type Value } from './arm-template.js';

/** host.json's functionTimeout in seconds: how long the host lets a function run. */
const FUNCTION_TIMEOUT_SECONDS = (JSON.parse(readFileSync('host.json', 'utf8')) as { functionTimeout: string }).functionTimeout
  .split(':')
  .map(Number)
  .reduce((total, part) => total * 60 + part, 0);

/**
 * The security settings of what Azure receives: the ARM JSON the pinned Bicep compiler makes of
 * infra/ (as the pipeline deploys it), evaluated through every module for each region's
 * parameter file, with and without a custom domain (infra/README.md). The compile needs
 * `dotnet` (tools/bicep/bicep.sh); CI has it.
 */

const CUSTOM_DOMAIN = 'roger.example.com';
const REGIONS = (JSON.parse(readFileSync('infra/regions.json', 'utf8')) as { id: string }[]).map((r) => r.id);

/** The placeholders tools/infra-check.sh sets for the parameter files' environment variables. */
function placeholderEnvironment(): Record<string, string> {
  const script = readFileSync('tools/infra-check.sh', 'utf8');
  return Object.fromEntries([...script.matchAll(/^export (\w+)="\$\{\1:-([^}]*)\}"$/gm)].map((m) => [m[1]!, m[2]!]));
}

type Template = Parameters<typeof deployedResources>[0];
let dir: string;
let main: Template;
let global: Template;
/** Parameter values of each .bicepparam, compiled with ROGER_CUSTOM_DOMAIN set. */
const parameterFiles: Record<string, Record<string, Value>> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roger-arm-'));
  const env = placeholderEnvironment();
  expect(env).toHaveProperty('ROGER_NAME_PREFIX');
  await Promise.all([
    bicep(['build', '--pattern', 'infra/*.bicep', '--outdir', join(dir, 'templates')]),
    bicep(['build-params', '--pattern', 'infra/*.bicepparam', '--outdir', join(dir, 'parameters')], {
      ...env,
      ROGER_CUSTOM_DOMAIN: CUSTOM_DOMAIN,
    }),
  ]);
  const read = (path: string) => JSON.parse(readFileSync(join(dir, path), 'utf8'));
  main = read('templates/main.json');
  global = read('templates/global.json');
  for (const name of [...REGIONS, 'global']) parameterFiles[name] = parameterValues(read(`parameters/${name}.json`));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function regional(region: string, overrides: Record<string, Value> = {}): DeployedResource[] {
  return deployedResources(main, { ...parameterFiles[region], customDomain: '', ...overrides });
}
function shared(overrides: Record<string, Value> = {}): DeployedResource[] {
  return deployedResources(global, { ...parameterFiles.global, customDomain: '', ...overrides });
}

/**
 * ROGER_REGIONS as deployed. The Service Bus host names in it are read from a deployed
 * namespace, so the setting is known only in part: string(⟨…⟩) of JSON whose unknown parts are
 * ⟨…⟩ inside its strings.
 */
function regionsSetting(settings: Record<string, Value>): { id: string; apiUrl: string; amqpUrl: string; amqpWebSocketUrl?: string }[] {
  const value = settings.ROGER_REGIONS;
  return JSON.parse(value instanceof Opaque ? value.text.replace(/^string\((.*)\)$/s, '$1') : value);
}

const ofType = (resources: DeployedResource[], type: string) => resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
function one(resources: DeployedResource[], type: string): DeployedResource {
  const found = ofType(resources, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
}

/** The Functions runtime storage of a regional deployment (the other account holds the web app). */
function runtimeStorage(resources: DeployedResource[]): DeployedResource {
  const found = ofType(resources, 'Microsoft.Storage/storageAccounts').filter((r) => r.modules.includes('function-app'));
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** Every deployment the tests look at: each region, and the global one, with and without a custom domain. */
function everyDeployment(): { name: string; resources: DeployedResource[] }[] {
  return [
    ...REGIONS.flatMap((region) => [
      { name: `${region}`, resources: regional(region) },
      { name: `${region} + custom domain`, resources: regional(region, { customDomain: CUSTOM_DOMAIN }) },
    ]),
    { name: 'global', resources: shared() },
    { name: 'global + custom domain', resources: shared({ customDomain: CUSTOM_DOMAIN }) },
  ];
}

/** [type, property path, required value]: settings each resource of the type must have, wherever it is deployed. */
const required: [string, string, Value][] = [
  // TLS 1.2 minimum and HTTPS only.
  ['Microsoft.Storage/storageAccounts', 'minimumTlsVersion', 'TLS1_2'],
  ['Microsoft.Storage/storageAccounts', 'supportsHttpsTrafficOnly', true],
  ['Microsoft.Web/sites', 'httpsOnly', true],
  ['Microsoft.Web/sites', 'siteConfig.minTlsVersion', '1.2'],
  ['Microsoft.Web/sites', 'siteConfig.scmMinTlsVersion', '1.2'],
  ['Microsoft.DocumentDB/databaseAccounts', 'minimalTlsVersion', 'Tls12'],
  ['Microsoft.ServiceBus/namespaces', 'minimumTlsVersion', '1.2'],
  ['Microsoft.Cdn/profiles/customDomains', 'tlsSettings.minimumTlsVersion', 'TLS12'],
  ['Microsoft.Cdn/profiles/customDomains', 'tlsSettings.certificateType', 'ManagedCertificate'],
  ['Microsoft.Cdn/profiles/afdEndpoints/routes', 'forwardingProtocol', 'HttpsOnly'],
  ['Microsoft.Cdn/profiles/afdEndpoints/routes', 'httpsRedirect', 'Enabled'],
  ['Microsoft.Cdn/profiles/originGroups/origins', 'enforceCertificateNameCheck', true],
  // Local (key) authentication off; Entra ID only.
  ['Microsoft.DocumentDB/databaseAccounts', 'disableLocalAuth', true],
  ['Microsoft.DocumentDB/databaseAccounts', 'disableKeyBasedMetadataWriteAccess', true],
  ['Microsoft.Storage/storageAccounts', 'allowSharedKeyAccess', false],
  ['Microsoft.Storage/storageAccounts', 'defaultToOAuthAuthentication', true],
  ['Microsoft.Insights/components', 'DisableLocalAuth', true],
  ['Microsoft.OperationalInsights/workspaces', 'features.disableLocalAuth', true],
  ['Microsoft.Web/sites/basicPublishingCredentialsPolicies', 'allow', false],
  // Printers connect with SAS tokens of the Listen rule (docs/security.md#printer-credentials-sas-scope).
  ['Microsoft.ServiceBus/namespaces', 'disableLocalAuth', false],
  // Public network: public endpoints with the above, no anonymous data, nothing else opened.
  ['Microsoft.Storage/storageAccounts', 'allowBlobPublicAccess', false],
  ['Microsoft.Storage/storageAccounts', 'allowCrossTenantReplication', false],
  ['Microsoft.Storage/storageAccounts', 'publicNetworkAccess', 'Enabled'],
  ['Microsoft.Storage/storageAccounts/blobServices/containers', 'publicAccess', 'None'],
  ['Microsoft.DocumentDB/databaseAccounts', 'publicNetworkAccess', 'Enabled'],
  ['Microsoft.ServiceBus/namespaces', 'publicNetworkAccess', 'Enabled'],
  ['Microsoft.KeyVault/vaults', 'publicNetworkAccess', 'Enabled'],
  // Key Vault: RBAC, soft delete and purge protection, not for VMs, templates or disks.
  ['Microsoft.KeyVault/vaults', 'enableRbacAuthorization', true],
  ['Microsoft.KeyVault/vaults', 'enableSoftDelete', true],
  ['Microsoft.KeyVault/vaults', 'softDeleteRetentionInDays', 90],
  ['Microsoft.KeyVault/vaults', 'enablePurgeProtection', true],
  ['Microsoft.KeyVault/vaults', 'enabledForDeployment', false],
  ['Microsoft.KeyVault/vaults', 'enabledForTemplateDeployment', false],
  ['Microsoft.KeyVault/vaults', 'enabledForDiskEncryption', false],
  // Continuous backup (point-in-time restore); the tier is checked against the parameter below.
  ['Microsoft.DocumentDB/databaseAccounts', 'backupPolicy.type', 'Continuous'],
];

function at(value: Value, path: string): Value {
  return path.split('.').reduce((v, key) => (v === undefined || v === null ? undefined : v[key]), value);
}

/** "type: property is x, not y" for each required setting a deployment lacks. */
function requiredProblems(resources: DeployedResource[]): string[] {
  return required.flatMap(([type, path, value]) =>
    ofType(resources, type)
      .filter((r) => JSON.stringify(at(r.properties, path)) !== JSON.stringify(value))
      .map((r) => `${type} ${show(r.name)}: ${path} is ${show(at(r.properties, path))}, not ${show(value)}`),
  );
}

/**
 * Types that support diagnostic settings, each sending to the deployment's Log Analytics
 * workspace; and those that do not, or whose data is elsewhere. A new type fails until it is
 * classified here.
 */
const diagnosticsRequired = new Set([
  'Microsoft.KeyVault/vaults',
  'Microsoft.DocumentDB/databaseAccounts',
  'Microsoft.ServiceBus/namespaces',
  'Microsoft.Web/sites',
  'Microsoft.Storage/storageAccounts',
  'Microsoft.Storage/storageAccounts/blobServices',
  'Microsoft.OperationalInsights/workspaces',
  'Microsoft.Cdn/profiles',
]);
const noDiagnostics: Record<string, string> = {
  'Microsoft.Insights/components': 'workspace-based: its telemetry is stored in the workspace already',
  'Microsoft.Web/serverfarms':
    "metrics only, no logs: Azure Monitor keeps platform metrics 93 days without a setting, and the app's go to the workspace through the site's",
  'Microsoft.Web/sites/config': 'settings of the site',
  'Microsoft.Web/sites/basicPublishingCredentialsPolicies': 'a setting of the site',
  'Microsoft.Storage/storageAccounts/blobServices/containers': 'logged by its blob service',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases': 'logged by its account',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers': 'logged by its account',
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments': 'control plane: the activity log',
  'Microsoft.ServiceBus/namespaces/topics': 'logged by its namespace',
  'Microsoft.ServiceBus/namespaces/AuthorizationRules': 'logged by its namespace',
  'Microsoft.KeyVault/vaults/secrets': 'logged by its vault',
  'Microsoft.Cdn/profiles/afdEndpoints': 'logged by its profile',
  'Microsoft.Cdn/profiles/afdEndpoints/routes': 'logged by its profile',
  'Microsoft.Cdn/profiles/originGroups': 'logged by its profile',
  'Microsoft.Cdn/profiles/originGroups/origins': 'logged by its profile',
  'Microsoft.Cdn/profiles/customDomains': 'logged by its profile',
  'Microsoft.Cdn/profiles/ruleSets': 'logged by its profile',
  'Microsoft.Cdn/profiles/ruleSets/rules': 'logged by its profile',
  'Microsoft.ManagedIdentity/userAssignedIdentities': 'no diagnostic settings: sign-ins are in Entra ID',
  'Microsoft.Authorization/roleAssignments': 'control plane: the activity log',
  'Microsoft.Insights/diagnosticSettings': 'the settings themselves',
  'Microsoft.Insights/actionGroups': 'no diagnostic settings',
  'Microsoft.Insights/metricAlerts': 'no diagnostic settings: alert history is in Azure Monitor',
  'Microsoft.Insights/scheduledQueryRules': 'no diagnostic settings: alert history is in Azure Monitor',
  'Microsoft.Security/pricings': 'a subscription setting',
};

function diagnosticsProblems(resources: DeployedResource[]): string[] {
  const workspaces = ofType(resources, 'Microsoft.OperationalInsights/workspaces').map((w) => w.id);
  expect(workspaces).toHaveLength(1);
  const settings = ofType(resources, 'Microsoft.Insights/diagnosticSettings');
  return resources.flatMap((resource) => {
    if (!diagnosticsRequired.has(resource.type))
      return resource.type in noDiagnostics ? [] : [`${resource.type} is not classified: does it support diagnostic settings?`];
    const mine = settings.filter((s) => s.scope === resource.id);
    if (mine.length === 0) return [`${resource.type} ${show(resource.name)} has no diagnostic setting`];
    return mine.flatMap((s) => {
      const sends = [...(s.properties.logs ?? []), ...(s.properties.metrics ?? [])].filter(
        (x: { enabled?: boolean }) => x.enabled === true,
      );
      return [
        ...(s.properties.workspaceId === workspaces[0]
          ? []
          : [`${resource.type}: diagnostics go to ${show(s.properties.workspaceId)}, not the workspace`]),
        ...(sends.length > 0 ? [] : [`${resource.type}: a diagnostic setting that sends nothing`]),
      ];
    });
  });
}

describe('compiled templates (ARM JSON as deployed)', () => {
  it('sets TLS 1.2, HTTPS only, Entra ID only and the public-network rules on every resource, in every deployment', () => {
    const problems = everyDeployment().flatMap(({ name, resources }) => requiredProblems(resources).map((p) => `${name}: ${p}`));
    expect(problems).toEqual([]);
    // Each required type is really deployed somewhere (the list is not stale).
    const types = new Set(everyDeployment().flatMap(({ resources }) => resources.map((r) => r.type.toLowerCase())));
    expect(required.map(([type]) => type).filter((type) => !types.has(type.toLowerCase()))).toEqual([]);
  });

  it("sends every resource that has diagnostic settings to the deployment's workspace", () => {
    const problems = everyDeployment().flatMap(({ name, resources }) => diagnosticsProblems(resources).map((p) => `${name}: ${p}`));
    expect([...new Set(problems)]).toEqual([]);
  });

  it('backs Cosmos DB up continuously, 7 days unless cosmosBackupTier says 30', () => {
    for (const resources of [regional('eu'), shared()])
      expect(one(resources, 'Microsoft.DocumentDB/databaseAccounts').properties.backupPolicy).toEqual({
        type: 'Continuous',
        continuousModeProperties: { tier: 'Continuous7Days' },
      });
    for (const resources of [regional('us', { cosmosBackupTier: 'Continuous30Days' }), shared({ cosmosBackupTier: 'Continuous30Days' })])
      expect(one(resources, 'Microsoft.DocumentDB/databaseAccounts').properties.backupPolicy.continuousModeProperties.tier).toBe(
        'Continuous30Days',
      );
  });

  it('is zone-redundant where the SKU allows it: Cosmos DB and ZRS storage by default, the Flex plan when asked', () => {
    for (const region of REGIONS) {
      const resources = regional(region);
      expect(one(resources, 'Microsoft.DocumentDB/databaseAccounts').properties.locations).toEqual([
        expect.objectContaining({ failoverPriority: 0, isZoneRedundant: true }),
      ]);
      expect(runtimeStorage(resources).sku).toEqual({ name: 'Standard_ZRS' });
      expect(one(resources, 'Microsoft.Web/serverfarms').properties.zoneRedundant).toBe(false);
      // Standard has no availability-zone option (Premium only).
      expect(one(resources, 'Microsoft.ServiceBus/namespaces').sku).toEqual({ name: 'Standard', tier: 'Standard' });
    }
    expect(one(shared(), 'Microsoft.DocumentDB/databaseAccounts').properties.locations[0].isZoneRedundant).toBe(true);
    const zones = (resources: DeployedResource[]) => ({
      cosmos: one(resources, 'Microsoft.DocumentDB/databaseAccounts').properties.locations[0].isZoneRedundant,
      storage: runtimeStorage(resources).sku.name,
      plan: one(resources, 'Microsoft.Web/serverfarms').properties.zoneRedundant,
    });
    // A restored account is never zone-redundant: the region keeps its ZRS storage as it is.
    expect(zones(regional('eu', { cosmosZoneRedundant: false }))).toEqual({ cosmos: false, storage: 'Standard_ZRS', plan: false });
    expect(zones(regional('eu', { storageZoneRedundant: false }))).toEqual({ cosmos: true, storage: 'Standard_LRS', plan: false });
    // A zone-redundant plan needs ZRS storage, whatever storageZoneRedundant says.
    expect(zones(regional('eu', { storageZoneRedundant: false, functionAppZoneRedundant: true }))).toEqual({
      cosmos: true,
      storage: 'Standard_ZRS',
      plan: true,
    });
    expect(
      one(shared({ cosmosZoneRedundant: false }), 'Microsoft.DocumentDB/databaseAccounts').properties.locations[0].isZoneRedundant,
    ).toBe(false);
  });

  it('writes only the Defender plans set to Standard, never Free over a plan the subscription has on', () => {
    const pricings = (overrides: Record<string, Value>) =>
      ofType(regional('eu', overrides), 'Microsoft.Security/pricings').map((p) => [p.name, p.properties.pricingTier]);
    expect(pricings({})).toEqual([]);
    expect(pricings({ defenderKeyVault: 'Standard' })).toEqual([['KeyVaults', 'Standard']]);
    expect(pricings({ defenderCosmosDb: 'Standard', defenderStorage: 'Standard' })).toEqual([
      ['CosmosDbs', 'Standard'],
      ['StorageAccounts', 'Standard'],
    ]);
    const all = { defenderCosmosDb: 'Standard', defenderKeyVault: 'Standard', defenderAppService: 'Standard', defenderStorage: 'Standard' };
    expect(pricings({ ...all, defenderResourceManager: 'Standard' })).toHaveLength(5);
  });

  it('lets Front Door wait for an origin longer than the host lets a function run', () => {
    const timeout = one(shared({ customDomain: CUSTOM_DOMAIN }), 'Microsoft.Cdn/profiles').properties.originResponseTimeoutSeconds;
    expect(FUNCTION_TIMEOUT_SECONDS).toBe(120);
    expect(timeout).toBeGreaterThan(FUNCTION_TIMEOUT_SECONDS);
    // Azure's range, and under App Service's own 230 s cut.
    expect(timeout).toBeGreaterThanOrEqual(16);
    expect(timeout).toBeLessThan(230);
  });

  it("advertises each region's Service Bus host with the suffix of the namespace Azure created, not a hard-coded cloud", () => {
    for (const region of REGIONS) {
      const regions = regionsSetting(one(regional(region), 'Microsoft.Web/sites/config').properties);
      for (const { id, amqpUrl, ...rest } of regions) {
        expect(amqpUrl.startsWith(`amqps://${parameterFiles[region]!.namePrefix}-${id}-bus⟨`), amqpUrl).toBe(true);
        // This region's namespace's host name (split out of its serviceBusEndpoint), from its first dot.
        expect(amqpUrl).toMatch(/⟨substring\(.*reference\(namespace\)\.serviceBusEndpoint.*⟨indexOf\(.*, \.\)⟩\)⟩$/);
        expect(amqpUrl).not.toContain('windows.net');
        // AMQP over WebSockets is not written: the app derives it (the same host, on 443, at the one
        // path the SDK asks for, docs/flows.md#amqp-over-websockets), so an app from before, which
        // refuses unknown region fields, keeps starting while the deployment changes its settings.
        expect(rest).not.toHaveProperty('amqpWebSocketUrl');
        const deployed = amqpUrl.replace(/⟨.*⟩$/s, '.servicebus.windows.net'); // as the namespace's host name fills it in
        expect(amqpWebSocketUrlFor(deployed)).toBe(`${deployed.replace(/^amqps:/, 'wss:')}/$servicebus/websocket`);
      }
    }
  });

  it('creates the release topics the code sends to, and gives the app their count and capacity after them', () => {
    const defaults = loadConfig({}).serviceBus;
    for (const [overrides, count, capacity] of [
      [{}, defaults.releaseTopicCount, defaults.releaseTopicCapacity],
      [{ releaseTopicCount: 1 }, 1, defaults.releaseTopicCapacity],
      [{ releaseTopicCount: 12, releaseTopicCapacity: 1500 }, 12, 1500],
    ] as const) {
      const resources = regional('eu', overrides);
      const topics = ofType(resources, 'Microsoft.ServiceBus/namespaces/topics');
      // `releases` (printers enrolled before sharding) and releases-00 … as shared/messaging/messaging.ts names them.
      expect(topics.map((t) => String(t.name).split('/').pop())).toEqual(releaseTopics(count).map((t) => t.name));
      for (const topic of topics) {
        expect(topic.properties).toMatchObject({ requiresDuplicateDetection: true, duplicateDetectionHistoryTimeWindow: 'PT10M' });
      }
      // The app sends to and manages subscriptions on each of them, and on nothing else.
      expect(ofType(resources, 'Microsoft.Authorization/roleAssignments').filter((r) => String(r.scope).includes('topics'))).toHaveLength(
        2 * topics.length,
      );
      const settings = one(resources, 'Microsoft.Web/sites/config').properties;
      expect([settings.RELEASE_TOPIC_COUNT, settings.RELEASE_TOPIC_CAPACITY]).toEqual([String(count), String(capacity)]);
    }
  });

  it('creates every container with the indexing policy the code defines', () => {
    const specs = Object.values(containerSpecs) as ContainerSpec[];
    const containers = [...regional('eu'), ...shared()].filter(
      (r) => r.type === 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers',
    );
    expect(containers.map((c) => c.properties.resource.id).sort()).toEqual(specs.map((s) => s.id).sort());
    for (const container of containers) {
      const spec = specs.find((s) => s.id === container.properties.resource.id)!;
      expect(container.properties.resource.indexingPolicy, spec.id).toEqual(spec.indexingPolicy);
      expect(container.properties.resource.partitionKey.paths, spec.id).toEqual([spec.partitionKeyPath]);
    }
  });

  it("probes the discovery origins with HEAD every 240 s; a region's own API group sends no probes", () => {
    const groups = ofType(shared({ customDomain: CUSTOM_DOMAIN }), 'Microsoft.Cdn/profiles/originGroups');
    const discovery = groups.find((g) => show(g.name).endsWith('/regional-apis'))!;
    expect(discovery.properties.healthProbeSettings).toEqual({
      probePath: '/regions',
      probeRequestType: 'HEAD',
      probeProtocol: 'Https',
      probeIntervalInSeconds: 240,
    });
    expect(groups.filter((g) => g !== discovery).map((g) => g.properties.healthProbeSettings)).toEqual(REGIONS.map(() => undefined));
  });

  it("without a custom domain: no custom domains, the API at the app's own host name, open to direct calls", () => {
    expect(ofType(shared(), 'Microsoft.Cdn/profiles/customDomains')).toEqual([]);
    expect(ofType(shared(), 'Microsoft.Cdn/profiles/afdEndpoints/routes')).toHaveLength(1);
    for (const region of REGIONS) {
      const resources = regional(region);
      const site = one(resources, 'Microsoft.Web/sites');
      // Sent open, not left out: App Service would keep the Front Door rule of an earlier deployment.
      expect(site.properties.siteConfig).toEqual({
        minTlsVersion: '1.2',
        scmMinTlsVersion: '1.2',
        ipSecurityRestrictionsDefaultAction: 'Allow',
        ipSecurityRestrictions: [],
        scmIpSecurityRestrictionsUseMain: false,
      });
      const settings = one(resources, 'Microsoft.Web/sites/config').properties;
      expect(settings.TRUSTED_PROXY_HOPS).toBe('1');
      expect(regionsSetting(settings).map((r: { apiUrl: string }) => r.apiUrl)).toEqual(
        REGIONS.map((id) => `https://${parameterFiles[region]!.namePrefix}-${id}-api.azurewebsites.net`),
      );
    }
  });

  it("with a custom domain: managed certificates on Front Door, each region's host routed to its own app only, which admits only our Front Door", () => {
    const resources = shared({ customDomain: CUSTOM_DOMAIN });
    const domains = ofType(resources, 'Microsoft.Cdn/profiles/customDomains');
    expect(domains.map((d) => d.properties.hostName).sort()).toEqual(
      [`discovery.${CUSTOM_DOMAIN}`, ...REGIONS.map((id) => `${id}.${CUSTOM_DOMAIN}`)].sort(),
    );
    const domainId = (host: string) => domains.find((d) => d.properties.hostName === host)!.id;
    const routes = ofType(resources, 'Microsoft.Cdn/profiles/afdEndpoints/routes');
    const discovery = routes.find((r) => show(r.name).endsWith('/discovery'))!;
    expect(discovery.properties.customDomains).toEqual([{ id: domainId(`discovery.${CUSTOM_DOMAIN}`) }]);
    expect(discovery.properties.linkToDefaultDomain).toBe('Enabled');
    const origins = ofType(resources, 'Microsoft.Cdn/profiles/originGroups/origins');
    for (const region of REGIONS) {
      const route = routes.find((r) => r.properties.customDomains?.[0]?.id === domainId(`${region}.${CUSTOM_DOMAIN}`))!;
      expect(route, region).toBeDefined();
      expect(route.properties).toMatchObject({
        patternsToMatch: ['/*'],
        linkToDefaultDomain: 'Disabled',
        supportedProtocols: ['Http', 'Https'],
      });
      // The group holds this region's app only.
      const group = route.properties.originGroup.id as string;
      const inGroup = group.replace('originGroups/', 'originGroups/origins/').replace(/\)$/, '/');
      const members = origins.filter((o) => o.id.startsWith(inGroup));
      expect(members.map((o) => o.properties.hostName)).toEqual([`${parameterFiles.global!.namePrefix}-${region}-api.azurewebsites.net`]);
    }

    for (const region of REGIONS) {
      const regionResources = regional(region, { customDomain: CUSTOM_DOMAIN });
      const siteConfig = one(regionResources, 'Microsoft.Web/sites').properties.siteConfig;
      expect(siteConfig.ipSecurityRestrictionsDefaultAction).toBe('Deny');
      expect(siteConfig.scmIpSecurityRestrictionsUseMain).toBe(false);
      expect(siteConfig.ipSecurityRestrictions).toHaveLength(1);
      const [rule] = siteConfig.ipSecurityRestrictions;
      expect(rule).toMatchObject({ action: 'Allow', tag: 'ServiceTag', ipAddress: 'AzureFrontDoor.Backend' });
      // The profile's id, read from global.bicep's Front Door at deployment time.
      expect(rule.headers['x-azure-fdid']).toHaveLength(1);
      expect(rule.headers['x-azure-fdid'][0]).toBeInstanceOf(Opaque);
      expect(show(rule.headers['x-azure-fdid'][0])).toMatch(/reference\(frontDoor\)\.frontDoorId/);
      const settings = one(regionResources, 'Microsoft.Web/sites/config').properties;
      expect(settings.TRUSTED_PROXY_HOPS).toBe('2');
      expect(regionsSetting(settings).map((r: { apiUrl: string }) => r.apiUrl)).toEqual(
        REGIONS.map((id) => `https://${id}.${CUSTOM_DOMAIN}`),
      );
    }
  });
});

/** What the local host sends with a screen of the web app (tools/local-web.ts), headers by lower-case name. */
async function localWebAppHeaders(): Promise<Record<string, string>> {
  const root = mkdtempSync(join(tmpdir(), 'roger-web-'));
  try {
    writeFileSync(join(root, 'index.html'), '<!doctype html>');
    const headers: Record<string, string> = {};
    const res = {
      statusCode: 0,
      setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
      end: () => undefined,
    };
    await serveWebApp(root, 'GET', '/app/jobs', res as unknown as ServerResponse, webAppCsp([GRAPH_UPLOAD_ORIGIN]));
    expect(res.statusCode).toBe(200);
    return headers;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The web app in Azure (docs/web-app.md#in-azure, infra/README.md#the-web-app): each region's
 * build in its own storage static website, served by Front Door at /app/* of the region's host
 * name, same-origin with that region's API and OAuth issuer.
 */
describe('the web app in Azure (ARM JSON as deployed)', () => {
  const web = (resources: DeployedResource[]) => ({
    storage: ofType(resources, 'Microsoft.Storage/storageAccounts').filter((r) => r.modules.includes('web-app')),
    routes: ofType(resources, 'Microsoft.Cdn/profiles/afdEndpoints/routes'),
    rules: ofType(resources, 'Microsoft.Cdn/profiles/ruleSets/rules'),
  });
  const rule = (resources: DeployedResource[], name: string) => web(resources).rules.find((r) => show(r.name).endsWith(`/${name}`))!;

  it("keeps each region's build in its own static website, uploaded with Entra ID only, no anonymous blob access", () => {
    for (const region of REGIONS) {
      const resources = regional(region);
      const [storage] = web(resources).storage;
      expect(storage, region).toBeDefined();
      expect(show(storage!.name)).toContain(`${parameterFiles[region]!.namePrefix}${region}web`);
      expect(storage!.properties).toMatchObject({ allowSharedKeyAccess: false, allowBlobPublicAccess: false, minimumTlsVersion: 'TLS1_2' });
      expect(storage!.sku).toEqual({ name: 'Standard_ZRS' });
      expect(web(regional(region, { storageZoneRedundant: false })).storage[0]!.sku).toEqual({ name: 'Standard_LRS' });
      // Served as a static website (its $web container), index.html for a folder; no 404 page, so a
      // missing asset stays a 404 rather than the app.
      const blob = ofType(resources, 'Microsoft.Storage/storageAccounts/blobServices').find((b) => b.modules.includes('web-app'))!;
      expect(blob.properties.staticWebsite).toEqual({ enabled: true, indexDocument: 'index.html' });
      // The deployment's identity (the pipeline) may write blobs there, and only there.
      const uploads = ofType(resources, 'Microsoft.Authorization/roleAssignments').filter((a) =>
        show(a.properties.roleDefinitionId).includes('ba92f5b4-2d11-453d-a403-e96b0029c9fe'),
      );
      expect(uploads).toHaveLength(1);
      expect(uploads[0]!.modules).toEqual(['web-app']);
      expect(show(uploads[0]!.properties.principalId)).toMatch(/deployer\(\)/);
    }
  });

  it("routes /app/* of each region's host name to that region's site, with a custom domain; without one there is no route", () => {
    for (const region of REGIONS) {
      expect(web(regional(region)).routes, region).toEqual([]);
      const resources = regional(region, { customDomain: CUSTOM_DOMAIN });
      const { routes } = web(resources);
      expect(routes).toHaveLength(2);
      const route = routes.find((r) => r.properties.patternsToMatch.includes('/app/*'))!;
      expect(route.properties).toMatchObject({ patternsToMatch: ['/app/*'], linkToDefaultDomain: 'Disabled' });
      // The region's own host name, the one global.bicep created for its API.
      const domain = ofType(shared({ customDomain: CUSTOM_DOMAIN }), 'Microsoft.Cdn/profiles/customDomains').find(
        (d) => d.properties.hostName === `${region}.${CUSTOM_DOMAIN}`,
      )!;
      expect(route.properties.customDomains).toEqual([{ id: domain.id }]);
      // Its one origin is this region's static website, whose host name Azure picked.
      const origins = ofType(resources, 'Microsoft.Cdn/profiles/originGroups/origins');
      const group = (route.properties.originGroup.id as string).replace('originGroups/', 'originGroups/origins/').replace(/\)$/, '/');
      const members = origins.filter((o) => o.id.startsWith(group));
      expect(members).toHaveLength(1);
      expect(show(members[0]!.properties.hostName)).toMatch(/primaryEndpoints\.web/);
      expect(members[0]!.properties.originHostHeader).toEqual(members[0]!.properties.hostName);
      // Cached as each file says, and compressed at the edge (the site sends no gzip).
      expect(route.properties.cacheConfiguration.compressionSettings.isCompressionEnabled).toBe(true);
      expect(route.properties.cacheConfiguration.compressionSettings.contentTypesToCompress).toEqual(
        expect.arrayContaining(['text/html', 'text/javascript', 'text/css']),
      );
      expect(route.properties.ruleSets).toHaveLength(1);
    }
    // Into global.bicep's Front Door, from the region's deployment.
    const module = (main.resources as Record<string, { resourceGroup?: string; properties: { parameters: Record<string, Value> } }>)
      .webRoute!;
    expect(module.resourceGroup).toBe("[parameters('globalResourceGroupName')]");
    // The path roger-web's redirect URI is under, resolved against the issuer (shared/oauth/clients.ts).
    expect(oauthClients['roger-web']!.redirectUris!.every((uri) => uri.startsWith('/app/'))).toBe(true);
  });

  it('answers a screen (no file extension) with /app/index.html by a rewrite, never a redirect; files stay files', () => {
    const resources = regional('eu', { customDomain: CUSTOM_DOMAIN });
    const screens = rule(resources, 'screens');
    expect(screens.properties.conditions).toEqual([
      {
        name: 'UrlFileExtension',
        parameters: {
          typeName: 'DeliveryRuleUrlFileExtensionMatchConditionParameters',
          operator: 'LessThan',
          matchValues: ['1'],
          negateCondition: false,
          transforms: [],
        },
      },
    ]);
    // Relative to the route's /app: '/' → '/index.html' asks the origin for /app/index.html.
    expect(screens.properties.actions).toEqual([
      {
        name: 'UrlRewrite',
        parameters: {
          typeName: 'DeliveryRuleUrlRewriteActionParameters',
          sourcePattern: '/',
          destination: '/index.html',
          preserveUnmatchedPath: false,
        },
      },
    ]);
    // The /app/* route's rules never redirect (a redirect would change the address the app reads).
    const screenRules = web(resources).rules.filter((r) => !show(r.name).includes('slash'));
    const actions = screenRules.flatMap((r) => r.properties.actions.map((a: { name: string }) => a.name));
    expect(actions).not.toContain('UrlRedirect');
  });

  it('sends /app (no slash) to /app/ with a 308, as the local host does, on a route of its own for exactly /app', () => {
    for (const region of REGIONS) {
      const resources = regional(region, { customDomain: CUSTOM_DOMAIN });
      const slash = web(resources).routes.find((r) => r.properties.patternsToMatch.includes('/app'))!;
      expect(slash, region).toBeDefined();
      expect(slash.properties.patternsToMatch).toEqual(['/app']);
      const screens = web(resources).routes.find((r) => r.properties.patternsToMatch.includes('/app/*'))!;
      // The same host name and origin as the /app/* route.
      expect(slash.properties.customDomains).toEqual(screens.properties.customDomains);
      expect(slash.properties.originGroup).toEqual(screens.properties.originGroup);
      expect(slash.properties.ruleSets).toHaveLength(1);
      const redirect = rule(resources, 'toapp');
      expect(show(slash.properties.ruleSets[0].id)).toContain('slash');
      expect(redirect.properties.conditions).toEqual([]);
      expect(redirect.properties.actions).toEqual([
        {
          name: 'UrlRedirect',
          parameters: {
            typeName: 'DeliveryRuleUrlRedirectActionParameters',
            redirectType: 'PermanentRedirect',
            destinationProtocol: 'MatchRequest',
            customPath: '/app/',
          },
        },
      ]);
    }
  });

  it("sets on every /app/ response the local host's headers: the API's security headers and the CSP with OneDrive's upload hosts", async () => {
    const headers = rule(regional('us', { customDomain: CUSTOM_DOMAIN }), 'securityheaders');
    // No condition: every response of the route, whatever the storage site sent.
    expect(headers.properties.conditions).toEqual([]);
    expect(headers.properties.order).toBeLessThan(rule(regional('us', { customDomain: CUSTOM_DOMAIN }), 'screens').properties.order);
    const set = Object.fromEntries(
      headers.properties.actions.map((a: { name: string; parameters: { headerAction: string; headerName: string; value: string } }) => {
        expect(a.name).toBe('ModifyResponseHeader');
        expect(a.parameters.headerAction).toBe('Overwrite');
        return [a.parameters.headerName.toLowerCase(), a.parameters.value];
      }),
    );
    const local = await localWebAppHeaders();
    const { 'cache-control': cache, 'content-type': _type, ...security } = local;
    expect(cache).toBe('no-store');
    expect(set).toEqual(security);
    expect(set['content-security-policy']).toContain("script-src 'self';");
    expect(set['content-security-policy']).toContain("connect-src 'self' https://*.sharepoint.com;");
  });
});
