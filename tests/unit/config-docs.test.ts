import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingNames } from '../../shared/config/settings.js';
import { README_BEGIN, README_END, renderLocalSettingsExample, renderSettingsTable } from '../../shared/config/settings-docs.js';
import { APP_CONTRACT_PATH, renderAppContract } from '../../shared/infra/app-contract.js';
import { containerSpecs } from '../../shared/store/containers.js';

describe('configuration docs match loadConfig', () => {
  it("docs/operations.md's settings table is the one generated from the settings schema", () => {
    const page = readFileSync('docs/operations.md', 'utf8');
    expect(page).toContain(README_BEGIN);
    const block = page.slice(page.indexOf(README_BEGIN) + README_BEGIN.length, page.indexOf(README_END)).trim();
    expect(block, 'run `npm run docs:config`').toBe(renderSettingsTable());
    for (const name of settingNames) expect(block).toContain(`\`${name}\``);
  });

  it('local.settings.example.json lists every setting, with no secret in it', () => {
    const text = readFileSync('local.settings.example.json', 'utf8');
    expect(text, 'run `npm run docs:config`').toBe(renderLocalSettingsExample());
    const values = JSON.parse(text).Values as Record<string, string>;
    for (const name of settingNames) expect(values).toHaveProperty(name);
    expect(values.COSMOS_KEY).toBe('');
    expect(values.DIRECTORY_COSMOS_KEY).toBe('');
  });

  it('infra/app-contract.json, which the Bicep templates load, lists the containers and topics the code uses', () => {
    const text = readFileSync(APP_CONTRACT_PATH, 'utf8');
    expect(text, 'run `npm run docs:config`').toBe(renderAppContract());
    const contract = JSON.parse(text);
    const ids = [...contract.cosmos.regional.containers, ...contract.cosmos.directory.containers].map((c: { id: string }) => c.id);
    expect(ids.sort()).toEqual(
      Object.values(containerSpecs)
        .map((c) => c.id)
        .sort(),
    );
    // `releases` in every region; main.bicep adds releaseTopicCount topics named from `releaseTopics`.
    expect(contract.serviceBus.topics).toEqual([{ name: 'releases', duplicateDetectionHistoryTimeWindow: 'PT10M' }]);
    expect(contract.serviceBus.releaseTopics).toEqual({
      namePrefix: 'releases-',
      nameDigits: 2,
      duplicateDetectionHistoryTimeWindow: 'PT10M',
      defaultCount: 3,
      defaultCapacity: 1900,
    });
  });
});
