// Deployment smoke test (the pipeline runs it against each region after publishing):
//   node dist/tools/smoke.js --api <regional API URL> --region <id> [--discovery <global URL>] [--wait <seconds>]
// Checks that the region is up and configured as itself: /health (store reachable), /regions
// (lists this region at this URL), the RFC 8414 metadata (issuer = this URL) and the JWKS
// (public keys only). Exits 1 with one line per failed check; prints no response bodies.
import { parseArgs } from 'node:util';

interface Check {
  readonly name: string;
  run(): Promise<string | undefined>;
}

const { values } = parseArgs({
  options: {
    api: { type: 'string' },
    region: { type: 'string' },
    discovery: { type: 'string' },
    wait: { type: 'string', default: '180' },
  },
});
if (!values.api || !values.region) {
  process.stderr.write('usage: smoke.js --api <https://…> --region <id> [--discovery <https://…>] [--wait <seconds>]\n');
  process.exit(2);
}
const api = values.api.replace(/\/+$/, '');
const region = values.region;
const deadline = Date.now() + Number(values.wait) * 1000;

/** A fresh deployment answers 404/5xx or not at all for a while: retry those until the deadline. */
async function getJson(url: string, notFoundIsAnAnswer = false): Promise<{ status: number; headers: Headers; body: unknown }> {
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(15_000), redirect: 'manual' });
      const body: unknown = await response.json().catch(() => undefined);
      if ((response.status < 500 && (response.status !== 404 || notFoundIsAnAnswer)) || Date.now() > deadline) {
        return { status: response.status, headers: response.headers, body };
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url}: ${(error as Error).message}`, { cause: error });
    }
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

function expectOk(status: number, url: string): string | undefined {
  return status === 200 ? undefined : `${url} answered ${status}`;
}

const hsts = (headers: Headers) =>
  api.startsWith('https://') && !/max-age=\d{6,}/.test(headers.get('strict-transport-security') ?? '')
    ? 'no Strict-Transport-Security'
    : undefined;

type Catalog = { regions?: { id: string; apiUrl: string; amqpUrl: string }[] };

function catalogProblem(body: unknown): string | undefined {
  const listed = (body as Catalog | undefined)?.regions?.find((r) => r.id === region);
  if (!listed) return `the catalog does not list region "${region}"`;
  if (listed.apiUrl.replace(/\/+$/, '') !== api) return `the catalog gives ${listed.apiUrl} for "${region}", not ${api}`;
  return undefined;
}

const checks: Check[] = [
  {
    name: 'GET /health',
    async run() {
      const { status, headers, body } = await getJson(`${api}/health`);
      const health = body as { status?: string; region?: string } | undefined;
      if (status !== 200) return `answered ${status}${health?.status ? ` (${health.status})` : ''}`;
      if (health?.region !== region) return `serves region "${health?.region}", not "${region}"`;
      return hsts(headers);
    },
  },
  {
    name: 'GET /regions',
    async run() {
      const { status, body } = await getJson(`${api}/regions`);
      return expectOk(status, '/regions') ?? catalogProblem(body);
    },
  },
  {
    name: 'GET /.well-known/oauth-authorization-server',
    async run() {
      const { status, body } = await getJson(`${api}/.well-known/oauth-authorization-server`);
      const metadata = body as { issuer?: string; token_endpoint?: string } | undefined;
      if (status !== 200) return `answered ${status}`;
      if (metadata?.issuer !== api) return `issuer is ${metadata?.issuer}, not ${api}`;
      if (metadata.token_endpoint !== `${api}/oauth/token`) return `token_endpoint is ${metadata.token_endpoint}`;
      return undefined;
    },
  },
  {
    name: 'GET /.well-known/jwks.json',
    async run() {
      const { status, body } = await getJson(`${api}/.well-known/jwks.json`);
      const keys = (body as { keys?: Record<string, unknown>[] } | undefined)?.keys ?? [];
      if (status !== 200) return `answered ${status}`;
      if (keys.length === 0) return 'publishes no key';
      if (keys.some((key) => 'd' in key)) return 'publishes a private key';
      return undefined;
    },
  },
];
if (values.discovery) {
  const discovery = values.discovery.replace(/\/+$/, '');
  checks.push({
    name: `GET ${discovery}/regions (global entry point)`,
    async run() {
      const { status, body } = await getJson(`${discovery}/regions`);
      return expectOk(status, '/regions') ?? catalogProblem(body);
    },
  });
  checks.push({
    name: `GET ${discovery}/tenants/{slug}/region reaches a regional app`,
    async run() {
      // An unknown slug: the app's own 404 problem, not the entry point's.
      const { status, headers } = await getJson(`${discovery}/tenants/smoke-test-no-such-tenant/region`, true);
      if (status !== 404 || !headers.get('content-type')?.startsWith('application/problem+json')) {
        return `answered ${status} ${headers.get('content-type') ?? ''}, not the app's 404 problem`;
      }
      return undefined;
    },
  });
}

let failed = 0;
for (const check of checks) {
  const problem = await check.run().catch((error: Error) => error.message);
  process.stdout.write(`${problem ? 'FAIL' : 'ok  '} ${region} ${check.name}${problem ? `: ${problem}` : ''}\n`);
  if (problem) failed += 1;
}
process.stdout.write(`${checks.length - failed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
