import { describe, expect, it } from 'vitest';
import { settingNames, settingSpecs, type SettingSpec } from '../../shared/config/settings.js';
import { objectEntries, readInfra, type Entry } from './bicep-source.js';

/**
 * The Function App's settings in Bicep are exactly the settings loadConfig reads in Azure
 * (docs/operations.md#settings): a setting added on one side only fails here, before it can fail a deployment or
 * sit unused in Azure.
 */
const azureSettings = settingNames.filter((name) => (settingSpecs[name] as SettingSpec).where === 'azure');

/** What differs between the names Bicep sets and the names the app reads; empty when they agree. */
function parityProblems(bicepNames: readonly string[], appNames: readonly string[]): string[] {
  return [
    ...bicepNames.filter((n) => !appNames.includes(n)).map((n) => `${n}: set in infra/main.bicep but not read by loadConfig`),
    ...appNames.filter((n) => !bicepNames.includes(n)).map((n) => `${n}: read by loadConfig in Azure but not set in infra/main.bicep`),
  ];
}

const appSettings = (): Entry[] => objectEntries(readInfra('main.bicep'), 'appSettings');

describe('app settings: Bicep and loadConfig', () => {
  it('infra/main.bicep sets exactly the settings loadConfig reads in Azure', () => {
    const names = appSettings().map((e) => e.key);
    // One line per difference, so a failure says which setting and which side.
    expect(parityProblems(names, azureSettings).join('\n')).toBe('');
    expect(new Set(names).size).toBe(names.length);
    // Local-only settings (keys, ports) never reach Azure.
    for (const local of ['COSMOS_KEY', 'DIRECTORY_COSMOS_KEY', 'PORT', 'SERVICEBUS_LOCAL_PORT', 'MICROSOFT_LOCAL_PORT']) {
      expect(names).not.toContain(local);
    }
  });

  it('names a setting added on only one side', () => {
    const withNewLine = readInfra('main.bicep').replace(/^var appSettings = \{\n/m, "var appSettings = {\n  EXAMPLE_ONLY_SETTING: 'x'\n");
    const bicepNames = objectEntries(withNewLine, 'appSettings').map((e) => e.key);
    expect(bicepNames).toContain('EXAMPLE_ONLY_SETTING');
    expect(parityProblems([...azureSettings, 'EXAMPLE_ONLY_SETTING'], azureSettings)).toEqual([
      'EXAMPLE_ONLY_SETTING: set in infra/main.bicep but not read by loadConfig',
    ]);
    expect(parityProblems(azureSettings, [...azureSettings, 'EXAMPLE_ONLY_SETTING'])).toEqual([
      'EXAMPLE_ONLY_SETTING: read by loadConfig in Azure but not set in infra/main.bicep',
    ]);
  });

  it('every secret is a Key Vault reference, and nothing else is', () => {
    for (const { key, value } of appSettings()) {
      const secret = Boolean((settingSpecs[key as keyof typeof settingSpecs] as SettingSpec | undefined)?.secret);
      expect(value.startsWith('keyVaultReference(keyVaultName, secretNames.'), `${key} = ${value}`).toBe(secret);
    }
  });

  it("the Function App adds only the host's own settings, none the app reads or Flex Consumption refuses", () => {
    const hostSettings = objectEntries(readInfra('modules/function-app.bicep'), 'hostSettings').map((e) => e.key);
    expect(hostSettings.sort()).toEqual([
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'AzureWebJobsStorage__accountName',
      'AzureWebJobsStorage__clientId',
      'AzureWebJobsStorage__credential',
    ]);
    expect(hostSettings.filter((n) => (settingNames as readonly string[]).includes(n))).toEqual([]);
    const text = readInfra('modules/function-app.bicep') + readInfra('main.bicep');
    // Flex Consumption sets these itself from functionAppConfig, or has no use for them.
    for (const refused of [
      'FUNCTIONS_WORKER_RUNTIME',
      'FUNCTIONS_EXTENSION_VERSION',
      'WEBSITE_NODE_DEFAULT_VERSION',
      'WEBSITE_RUN_FROM_PACKAGE',
      'WEBSITE_CONTENTSHARE',
    ]) {
      expect(text).not.toContain(refused);
    }
  });
});
