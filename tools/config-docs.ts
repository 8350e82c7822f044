// `npm run docs:config`: rewrites the settings table in README.md and local.settings.example.json
// from shared/config/settings.ts.
import { readFile, writeFile } from 'node:fs/promises';
import { renderLocalSettingsExample, replaceReadmeSettings } from '../shared/config/settings-docs.js';

const readme = await readFile('README.md', 'utf8');
await writeFile('README.md', replaceReadmeSettings(readme));
await writeFile('local.settings.example.json', renderLocalSettingsExample());
process.stdout.write('README.md settings table and local.settings.example.json updated\n');
