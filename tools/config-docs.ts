// `npm run docs:config`: rewrites the settings table in README.md and local.settings.example.json
// from shared/config/settings.ts, and infra/app-contract.json (what the Bicep templates create).
import { readFile, writeFile } from 'node:fs/promises';
import { renderLocalSettingsExample, replaceReadmeSettings } from '../shared/config/settings-docs.js';
import { APP_CONTRACT_PATH, renderAppContract } from '../shared/infra/app-contract.js';

const readme = await readFile('README.md', 'utf8');
await writeFile('README.md', replaceReadmeSettings(readme));
await writeFile('local.settings.example.json', renderLocalSettingsExample());
await writeFile(APP_CONTRACT_PATH, renderAppContract());
process.stdout.write(`README.md settings table, local.settings.example.json and ${APP_CONTRACT_PATH} updated\n`);
