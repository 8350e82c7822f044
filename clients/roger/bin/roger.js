#!/usr/bin/env node
// The program is bundled into ../dist by the workspace's build (clients/build-client.mjs).
await import('../dist/roger.js');
