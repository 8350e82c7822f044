// `npm run docs:config`: rewrites the settings table in docs/operations.md and
// local.settings.example.json from shared/config/settings.ts, and infra/app-contract.json (what
// the Bicep templates create).
import { readFile, writeFile } from 'node:fs/promises';
import { renderLocalSettingsExample, replaceReadmeSettings } from '../shared/config/settings-docs.js';
import { APP_CONTRACT_PATH, renderAppContract } from '../shared/infra/app-contract.js';

const SETTINGS_PAGE = 'docs/operations.md';
const page = await readFile(SETTINGS_PAGE, 'utf8');
await writeFile(SETTINGS_PAGE, replaceReadmeSettings(page));
await writeFile('local.settings.example.json', renderLocalSettingsExample());
await writeFile(APP_CONTRACT_PATH, renderAppContract());
process.stdout.write(`${SETTINGS_PAGE} settings table, local.settings.example.json and ${APP_CONTRACT_PATH} updated\n`);
