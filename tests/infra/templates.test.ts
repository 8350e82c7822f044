import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegionSchema } from '../../shared/config/settings.js';
import { bicepFiles, moduleReferences, paramFileValues, readInfra, resources, templateParams, type ResourceDecl } from './bicep-source.js';

const regions = JSON.parse(readInfra('regions.json')) as { id: string; name: string; location: string }[];

/**
 * Every resource sets a minimum TLS version (docs/security.md#trust-boundaries). Each resource type the templates
 * declare is listed here with the settings that keep it on HTTPS and TLS 1.2, or listed as
 * having none. A new resource type fails the test until someone decides which it is.
 */
const transportSettings: Record<string, readonly RegExp[]> = {
  'Microsoft.Storage/storageAccounts': [/\bminimumTlsVersion: 'TLS1_2'/, /\bsupportsHttpsTrafficOnly: true/],
  'Microsoft.Web/sites': [/\bhttpsOnly: true/, /\bminTlsVersion: '1\.2'/, /\bscmMinTlsVersion: '1\.2'/],
  'Microsoft.DocumentDB/databaseAccounts': [/\bminimalTlsVersion: 'Tls12'/],
  'Microsoft.ServiceBus/namespaces': [/\bminimumTlsVersion: '1\.2'/],
  'Microsoft.Cdn/profiles/afdEndpoints/routes': [/\bforwardingProtocol: 'HttpsOnly'/, /\bhttpsRedirect: 'Enabled'/],
  // Probes over HTTPS; a single-origin group (a region's own API) sends none, so has nothing to set.
  'Microsoft.Cdn/profiles/originGroups': [/\bprobeProtocol: 'Https'|^(?![\s\S]*\bhealthProbeSettings\b)/],
  'Microsoft.Cdn/profiles/originGroups/origins': [/\benforceCertificateNameCheck: true/],
  'Microsoft.Cdn/profiles/customDomains': [/\bcertificateType: 'ManagedCertificate'/, /\bminimumTlsVersion: 'TLS12'/],
  // Basic-auth publishing off: deployments use Entra ID (Flex Consumption has no FTP endpoint).
  'Microsoft.Web/sites/basicPublishingCredentialsPolicies': [/\ballow: false/],
};
/** Types with no transport setting of their own: children reached through their parent's endpoint, or control-plane only. */
const noTransportSetting = new Set([
  'Microsoft.Storage/storageAccounts/blobServices',
  'Microsoft.Storage/storageAccounts/blobServices/containers',
  'Microsoft.Web/serverfarms',
  'Microsoft.Web/sites/config',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers',
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments',
  'Microsoft.ServiceBus/namespaces/topics',
  'Microsoft.ServiceBus/namespaces/authorizationRules',
  'Microsoft.KeyVault/vaults/secrets',
  'Microsoft.Authorization/roleAssignments',
  'Microsoft.Cdn/profiles',
  'Microsoft.Cdn/profiles/afdEndpoints',
  // Rules apply to requests their route already took over HTTPS (the route's settings above).
  'Microsoft.Cdn/profiles/ruleSets',
  'Microsoft.Cdn/profiles/ruleSets/rules',
  // Services whose endpoints are HTTPS with TLS 1.2 or later by the service itself: no setting.
  'Microsoft.ManagedIdentity/userAssignedIdentities',
  'Microsoft.KeyVault/vaults',
  'Microsoft.OperationalInsights/workspaces',
  'Microsoft.Insights/components',
  // Monitoring and Defender settings: control-plane only, no endpoint of their own.
  'Microsoft.Insights/diagnosticSettings',
  'Microsoft.Insights/actionGroups',
  'Microsoft.Insights/metricAlerts',
  'Microsoft.Insights/scheduledQueryRules',
  'Microsoft.Security/pricings',
]);

function allResources(): ResourceDecl[] {
  return bicepFiles().flatMap((file) => resources(file, readInfra(file)));
}

/** Transport problems of one resource declaration; empty when it is set as it must be. */
function transportProblems(resource: ResourceDecl): string[] {
  if (resource.existing) return []; // checked where it is declared
  const required = transportSettings[resource.type];
  if (!required) {
    return noTransportSetting.has(resource.type)
      ? []
      : [`${resource.file}: ${resource.symbol} (${resource.type}) is not classified: does it have a TLS/HTTPS setting?`];
  }
  return required
    .filter((setting) => !setting.test(resource.body))
    .map((setting) => `${resource.file}: ${resource.symbol} (${resource.type}) lacks ${setting.source.replace(/\\b|\\/g, '')}`);
}

/** Runs of 32+ base64/base64url characters mixing upper case, lower case and digits: what keys look like. */
function randomLooking(text: string): string[] {
  return [...text.matchAll(/[A-Za-z0-9+/_-]{32,}={0,2}/g)]
    .map((m) => m[0])
    .filter((run) => /[a-z]/.test(run) && /[A-Z]/.test(run) && /\d/.test(run));
}

describe('infra/ templates', () => {
  it('every resource with a TLS or HTTPS setting sets it', () => {
    const declared = allResources();
    expect(declared.length).toBeGreaterThan(20);
    expect(declared.flatMap(transportProblems)).toEqual([]);
    // Each hardened type is really declared somewhere (the table is not stale).
    for (const type of Object.keys(transportSettings))
      expect(
        declared.map((r) => r.type),
        type,
      ).toContain(type);
  });

  it('the TLS check names what is missing', () => {
    const storage = resources(
      'x.bicep',
      "resource s 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  properties: {\n    supportsHttpsTrafficOnly: true\n  }\n}\n",
    );
    expect(storage.flatMap(transportProblems)).toEqual([
      "x.bicep: s (Microsoft.Storage/storageAccounts) lacks minimumTlsVersion: 'TLS1_2'",
    ]);
    const unknown = resources('x.bicep', "resource r 'Microsoft.Sql/servers@2023-08-01' = {\n  name: 'r'\n}\n");
    expect(unknown.flatMap(transportProblems)[0]).toMatch(/is not classified/);
  });

  // No registry modules (br:, ts:): what CI compiles is exactly what the pipeline deploys, and the
  // repository holds only code written here (infra/README.md, Our own modules).
  it('uses only its own modules, each a file in infra/', () => {
    for (const file of bicepFiles()) {
      for (const reference of moduleReferences(readInfra(file))) {
        expect(reference, `${file}: ${reference}`).not.toMatch(/^(br|ts)[:/]/);
        expect(bicepFiles(), `${file}: ${reference}`).toContain(posix.join(posix.dirname(file), reference));
      }
    }
  });

  it('both region parameter files set the same parameters, and every required one', () => {
    const main = templateParams(readInfra('main.bicep'));
    const files = regions.map((region) => ({ region, values: paramFileValues(readInfra(`${region.id}.bicepparam`)) }));
    const [first, ...others] = files;
    for (const other of others) expect([...other.values.keys()].sort(), other.region.id).toEqual([...first!.values.keys()].sort());
    for (const { region, values } of files) {
      expect(readInfra(`${region.id}.bicepparam`)).toMatch(/^using '\.\/main\.bicep'$/m);
      for (const name of values.keys())
        expect(
          main.map((p) => p.name),
          `${region.id}.bicepparam sets ${name}`,
        ).toContain(name);
      for (const param of main.filter((p) => !p.hasDefault))
        expect(values.has(param.name), `${region.id}.bicepparam lacks ${param.name}`).toBe(true);
      expect(values.get('regionId')).toBe(`'${region.id}'`);
    }
    const global = paramFileValues(readInfra('global.bicepparam'));
    for (const param of templateParams(readInfra('global.bicep')).filter((p) => !p.hasDefault))
      expect(global.has(param.name), param.name).toBe(true);
  });

  it('has one parameter file per region of regions.json, with region ids the app accepts', () => {
    const paramFiles = readdirSync('infra').filter((f) => f.endsWith('.bicepparam') && f !== 'global.bicepparam');
    expect(paramFiles.sort()).toEqual(regions.map((r) => `${r.id}.bicepparam`).sort());
    for (const region of regions) expect(region.id).toMatch(new RegExp(RegionSchema.properties.id.pattern!));
    expect(new Set(regions.map((r) => r.location)).size).toBe(regions.length);
  });

  it('creates the Cosmos containers and topics from app-contract.json, in both templates', () => {
    for (const file of ['main.bicep', 'global.bicep']) expect(readInfra(file)).toContain("loadJsonContent('app-contract.json')");
    const main = readInfra('main.bicep');
    expect(main).toContain('containers: contract.cosmos.regional.containers');
    expect(main).toMatch(/var releaseTopics = concat\(\n\s+contract\.serviceBus\.topics,/);
    expect(main).toContain('topics: releaseTopics');
    expect(readInfra('global.bicep')).toContain('containers: contract.cosmos.directory.containers');
    const cosmos = resources('modules/cosmos.bicep', readInfra('modules/cosmos.bicep'));
    expect(cosmos.find((r) => r.type.endsWith('/containers'))!.body).toMatch(
      /paths: \[spec\.partitionKeyPath\][\s\S]*defaultTtl: spec\.defaultTtl/,
    );
    expect(cosmos.find((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts')!.body).toMatch(/disableLocalAuth: true/);
  });

  it('would notice a generated key in a file', () => {
    const key = 'bBweo6eGgedrzu88SWvRIysECz4R786kYQd4oZGqR2E';
    expect(randomLooking(`param x = '${key}'`)).toEqual([key]);
    expect(
      randomLooking("roleIds.storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' APPLICATIONINSIGHTS_AUTHENTICATION_STRING"),
    ).toEqual([]);
  });

  it('holds no secret: no keys, connection strings or private key material in infra/ or the workflows', () => {
    const files = [
      ...(readdirSync('infra', { recursive: true }) as string[])
        .filter((f) => /\.(bicep|bicepparam|json)$/.test(f))
        .map((f) => `infra/${f}`),
      ...readdirSync('.github/workflows').map((f) => `.github/workflows/${f}`),
    ];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(randomLooking(text), file).toEqual([]);
      expect(text, file).not.toMatch(/AccountKey=|SharedAccessKey=|"d"\s*:|-----BEGIN/);
      expect(text, file).not.toMatch(/@secure\(\)\s*param \w+ string = '/);
    }
  });
});
