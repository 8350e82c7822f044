// Builds the web app (web/, served under /app/) with Vite and holds it to its budget (web-budget.mjs:
// the initial JavaScript, gzipped, at most 300 KB; docs/web-app.md). Prints the number; exits
// non-zero above it.
import { build } from 'vite';
import { reportBudget } from './web-budget.mjs';

const webRoot = new URL('../web/', import.meta.url);

// What ships is the production build whoever runs this: vitest's global set-up calls the build with
// NODE_ENV=test, which would otherwise give the browser tests React's development bundle (and a
// bigger number than the one CI's build step reports).
process.env.NODE_ENV = 'production';
await build({ root: webRoot.pathname, configFile: new URL('vite.config.ts', webRoot).pathname, logLevel: 'warn', mode: 'production' });

if (!(await reportBudget(new URL('dist', webRoot).pathname))) process.exit(1);
