// Deployment smoke test (the pipeline runs it against each region after publishing):
//   node dist/tools/smoke.js --api <regional API URL> --region <id> [--discovery <global URL>] [--wait <seconds>]
// Checks that the region is up and configured as itself: /health (store reachable), /regions
// (lists this region at this URL), the RFC 8414 metadata (issuer = this URL) and the JWKS
// (public keys only). Exits 1 with one line per failed check; prints no response bodies, only
// the `detail` of the app's own problems (which name settings, never their values).
import { parseArgs } from 'node:util';
import { problemTypeUri } from '../shared/http/problem.js';

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
    /** Seconds between tries while the answer is "not yet". */
    interval: { type: 'string', default: '5' },
  },
});
if (!values.api || !values.region) {
  process.stderr.write('usage: smoke.js --api <https://…> --region <id> [--discovery <https://…>] [--wait <seconds>]\n');
  process.exit(2);
}
const api = values.api.replace(/\/+$/, '');
const region = values.region;
const deadline = Date.now() + Number(values.wait) * 1000;
const interval = Number(values.interval) * 1000;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  /** An RFC 9457 problem of this app (its content type and one of its `type`s), not a platform's page. */
  readonly ours: boolean;
}

const OUR_PROBLEM_TYPES = problemTypeUri('not-found').replace(/not-found$/, '');

function isOurProblem(headers: Headers, body: unknown): boolean {
  const type = (body as { type?: unknown } | undefined)?.type;
  return (
    Boolean(headers.get('content-type')?.startsWith('application/problem+json')) &&
    typeof type === 'string' &&
    type.startsWith(OUR_PROBLEM_TYPES)
  );
}

/**
 * A fresh deployment answers 5xx or not at all for a while, and a 404 that is not the app's own
 * problem — Front Door while a new route or origin propagates, a Functions host that has not
 * loaded the app yet: "not yet", retried until the deadline. The app's own 404 is an answer.
 */
async function getJson(url: string): Promise<Answer> {
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(15_000), redirect: 'manual' });
      const body: unknown = await response.json().catch(() => undefined);
      const ours = isOurProblem(response.headers, body);
      const notYet = response.status >= 500 || (response.status === 404 && !ours);
      if (!notYet || Date.now() > deadline) return { status: response.status, headers: response.headers, body, ours };
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url}: ${(error as Error).message}`, { cause: error });
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** "answered 503: <the app's detail>", or for a page that is not the app's, says so. */
function answered(answer: Answer): string {
  const detail = (answer.body as { detail?: unknown } | undefined)?.detail;
  if (answer.ours) return `answered ${answer.status}${typeof detail === 'string' ? `: ${detail}` : ''}`;
  return `answered ${answer.status}, not from the app${answer.status === 404 ? ' (a route or origin still propagating, or no function loaded)' : ''}`;
}

function expectOk(answer: Answer, url: string): string | undefined {
  return answer.status === 200 ? undefined : `${url} ${answered(answer)}`;
}

const hsts = (headers: Headers) =>
  api.startsWith('https://') && !/max-age=\d{6,}/.test(headers.get('strict-transport-security') ?? '')
    ? 'no Strict-Transport-Security'
    : undefined;

type Catalog = { regions?: { id: string; apiUrl: string; amqpUrl: string; amqpWebSocketUrl?: string }[] };

function catalogProblem(body: unknown): string | undefined {
  const listed = (body as Catalog | undefined)?.regions?.find((r) => r.id === region);
  if (!listed) return `the catalog does not list region "${region}"`;
  if (listed.apiUrl.replace(/\/+$/, '') !== api) return `the catalog gives ${listed.apiUrl} for "${region}", not ${api}`;
  // Printers behind a 443-only firewall connect there (docs/flows.md#amqp-over-websockets): the same namespace.
  const webSocketHost =
    listed.amqpWebSocketUrl && URL.canParse(listed.amqpWebSocketUrl) ? new URL(listed.amqpWebSocketUrl).hostname : undefined;
  if (webSocketHost !== new URL(listed.amqpUrl).hostname) {
    return `the catalog's amqpWebSocketUrl for "${region}" is ${listed.amqpWebSocketUrl ?? 'missing'}, not on ${listed.amqpUrl}'s host`;
  }
  return undefined;
}

const checks: Check[] = [
  {
    name: 'GET /health',
    async run() {
      const answer = await getJson(`${api}/health`);
      const { status, headers, body } = answer;
      const health = body as { status?: string; region?: string } | undefined;
      if (status !== 200) return answered(answer);
      if (health?.region !== region) return `serves region "${health?.region}", not "${region}"`;
      return hsts(headers);
    },
  },
  {
    name: 'GET /regions',
    async run() {
      const answer = await getJson(`${api}/regions`);
      return expectOk(answer, '/regions') ?? catalogProblem(answer.body);
    },
  },
  {
    name: 'GET /.well-known/oauth-authorization-server',
    async run() {
      const answer = await getJson(`${api}/.well-known/oauth-authorization-server`);
      const metadata = answer.body as { issuer?: string; token_endpoint?: string } | undefined;
      if (answer.status !== 200) return answered(answer);
      if (metadata?.issuer !== api) return `issuer is ${metadata?.issuer}, not ${api}`;
      if (metadata.token_endpoint !== `${api}/oauth/token`) return `token_endpoint is ${metadata.token_endpoint}`;
      return undefined;
    },
  },
  {
    name: 'GET /.well-known/jwks.json',
    async run() {
      const answer = await getJson(`${api}/.well-known/jwks.json`);
      const keys = (answer.body as { keys?: Record<string, unknown>[] } | undefined)?.keys ?? [];
      if (answer.status !== 200) return answered(answer);
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
      const answer = await getJson(`${discovery}/regions`);
      return expectOk(answer, '/regions') ?? catalogProblem(answer.body);
    },
  });
  checks.push({
    name: `GET ${discovery}/tenants/{slug}/region reaches a regional app`,
    async run() {
      // An unknown slug: the app's own 404 problem, not the entry point's.
      const answer = await getJson(`${discovery}/tenants/smoke-test-no-such-tenant/region`);
      if (answer.status !== 404 || !answer.ours) return `${answered(answer)}, not the app's 404 problem`;
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
