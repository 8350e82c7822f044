// `npm run bench`: speed and cost of the API next to a peer, in one run (issue 8, DEVELOPERS.md).
// - Our local host (`npm start`, in-process Cosmos store and broker) in a child process, loaded
//   with autocannon from this process: req/s, p50/p99 and Cosmos requests per call.
// - oidc-provider with its in-memory store, the same way, for device authorization and refresh.
// - argon2 verify alone, the ceiling of the password grant; cold start of the built entry.
// Prints a table and writes bench/results.json. BENCH_SECONDS sets the measured seconds per row.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Request } from 'autocannon';
import { loadConfig } from '../../shared/config/load-config.js';
import { hashCredential, verifyCredential } from '../../shared/tokens/credential-hash.js';
import { openLocalStore } from '../local/cosmos-server.js';
import { chain, load, percentile, type LoadOptions, type LoadResult } from './load.js';
import { rogerBenchEnv, setUpRoger, type RogerFixture } from './roger-fixture.js';
import { startPeer, startRoger, type ServerProcess } from './servers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? '8');
const LOAD: LoadOptions = { connections: 10, seconds: SECONDS, warmupSeconds: 2 };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * Cosmos requests per call the tests assert for the hot paths (tests/e2e/oauth-security.test.ts,
 * docs/data.md#cosmos-db-requests-per-operation); the table shows whether the bench stayed within.
 */
const COSMOS_BUDGET: Record<string, number> = {
  'GET /regions': 0,
  'device authorization': 2,
  'device-code poll (pending)': 2,
  'refresh grant': 2,
  'password grant (PIN)': 3,
  'job registration': 3,
};

/** The one status each row's requests must get: a fast error is not a fast operation. */
const EXPECTED_STATUS: Record<string, number> = {
  'GET /regions': 200,
  'device authorization': 200,
  'device-code poll (pending)': 400, // authorization_pending
  'refresh grant': 200,
  'password grant (PIN)': 200,
  'job registration': 201,
};
const answeredAsExpected = (row: Row) =>
  Object.entries(row.ours.statuses ?? {}).every(([status, count]) => count === 0 || Number(status) === EXPECTED_STATUS[row.operation]);

interface Row {
  readonly operation: string;
  readonly ours: LoadResult;
  /** oidc-provider with its own in-memory adapter. */
  readonly peer?: LoadResult;
  /** oidc-provider with an adapter on our store (Cosmos SDK, in-process server): storage costs equal. */
  readonly peerOnOurStore?: LoadResult;
  /** Cosmos DB requests and request units per call, as the SDK counted them (request log). */
  readonly cosmos?: { requests: number; ru: number };
}

/** Mean Cosmos requests and RU per call of `route`, from the host's request log lines. */
function cosmosCost(lines: readonly string[], route: string): { requests: number; ru: number } | undefined {
  const calls = lines
    .filter((line) => line.includes(` route=${route} `))
    .map((line) => ({ requests: Number(/cosmosRequests=(\d+)/.exec(line)?.[1]), ru: Number(/cosmosRU=([\d.]+)/.exec(line)?.[1]) }))
    .filter((call) => Number.isFinite(call.requests));
  if (calls.length === 0) return undefined;
  const mean = (values: number[]) => Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100;
  return { requests: mean(calls.map((c) => c.requests)), ru: mean(calls.map((c) => c.ru)) };
}

async function measure(server: ServerProcess, route: string, url: string, requests: Request[]) {
  server.drain();
  const result = await load(url, requests, LOAD);
  return { result, cosmos: cosmosCost(server.drain(), route) };
}

/** Refresh grants chained per connection: each uses the token the previous response rotated to. */
function refreshChain(url: string, path: string, clientId: string, tokens: readonly string[]) {
  return chain(
    url,
    path,
    FORM,
    tokens.slice(0, LOAD.connections),
    {
      body: (token) => new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: token }).toString(),
      next: (status, body) => (status === 200 ? (JSON.parse(body) as { refresh_token: string }).refresh_token : undefined),
    },
    LOAD,
  );
}

async function benchRoger(
  fixture: RogerFixture,
  server: ServerProcess,
): Promise<{ rows: Row[]; approval: LoadResult & { cosmos?: Row['cosmos'] }; argon2: { rps: number; p50: number } }> {
  const rows: Row[] = [];
  const add = async (operation: string, route: string, requests: Request[]) => {
    const { result, cosmos } = await measure(server, route, server.url, requests);
    rows.push({ operation, ours: result, cosmos });
    process.stderr.write(`  ${operation}: ${Math.round(result.rps)} req/s\n`);
  };
  await add('GET /regions', '/regions', [{ method: 'GET', path: '/regions' }]);
  // Each request from another client (IPv6 documentation prefix, one /64 each): one address
  // would be refused after 60 (docs/security.md, rate limits).
  let client = 0;
  await add('device authorization', '/oauth/device_authorization', [
    {
      method: 'POST',
      path: '/oauth/device_authorization',
      headers: FORM,
      body: 'client_id=roger-desktop&scope=jobs',
      setupRequest: (request) => ({ ...request, headers: { ...FORM, 'x-forwarded-for': `2001:db8:${(client++ % 65536).toString(16)}::1` } }),
    },
  ]);
  let next = 0;
  await add('device-code poll (pending)', '/oauth/token', [
    {
      method: 'POST',
      path: '/oauth/token',
      headers: FORM,
      setupRequest: (request) => ({
        ...request,
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          client_id: 'roger-desktop',
          device_code: fixture.pendingDeviceCodes[next++ % fixture.pendingDeviceCodes.length]!,
        }).toString(),
      }),
    },
  ]);
  server.drain();
  const refresh = await refreshChain(server.url, '/oauth/token', 'roger-mobile', fixture.refreshTokens);
  rows.push({ operation: 'refresh grant', ours: refresh, cosmos: cosmosCost(server.drain(), '/oauth/token') });
  process.stderr.write(`  refresh grant: ${Math.round(refresh.rps)} req/s\n`);
  // argon2 alone right before the PIN grant, so the two share the machine's state of the moment
  // (a shared VM drifts by more than the 20% margin between runs minutes apart).
  const argon2 = await argon2Throughput();
  process.stderr.write(`  argon2id verify alone: ${Math.round(argon2.rps)} verifies/s\n`);
  let turn = 0;
  await add('password grant (PIN)', '/oauth/token', [
    {
      method: 'POST',
      path: '/oauth/token',
      headers: { ...FORM, authorization: `Bearer ${fixture.printerToken}` },
      setupRequest: (request) => {
        const user = fixture.pinUsers[turn++ % fixture.pinUsers.length]!;
        return { ...request, body: new URLSearchParams({ grant_type: 'password', client_id: 'roger-emb', username: user.username, password: user.pin, scope: 'jobs:submit' }).toString() };
      },
    },
  ]);
  // Session approval with release of 10 jobs: stateful (10 queued jobs and a fresh session code
  // per call), so it is timed per call around its set-up, one at a time. Before the job
  // registration row (below).
  server.drain();
  const samples: number[] = [];
  const started = performance.now();
  let busy = 0;
  for (let i = 0; i < 20; i++) {
    const userCode = await fixture.prepareApproval(10);
    const t0 = performance.now();
    const released = await fixture.approve(userCode);
    const ms = performance.now() - t0;
    busy += ms;
    samples.push(ms);
    if (released !== 10) throw new Error(`approval released ${released} jobs, not 10`);
  }
  const approvalLines = server.drain();
  process.stderr.write(`  session approval + release of 10: ${Math.round(percentile(samples, 50))} ms p50 (${Math.round(performance.now() - started)} ms with set-up)\n`);
  // After the approvals: the thousands of jobs this row leaves behind would be scanned by
  // every release query on the local server, which has no index and ignores partition keys.
  await add('job registration', '/api/jobs', [
    {
      method: 'POST',
      path: '/api/jobs',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.userToken}` },
      body: JSON.stringify({ fileName: 'Quarterly report.pdf', size: 482133, options: { copies: 1, color: false } }),
    },
  ]);

  return {
    rows,
    argon2,
    approval: {
      rps: (samples.length / busy) * 1000,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      requests: samples.length,
      statuses: { '200': samples.length },
      errors: 0,
      cosmos: cosmosCost(approvalLines, '/api/device-codes/approve'),
    },
  };
}

async function benchPeer(store: 'memory' | 'cosmos'): Promise<{ deviceAuthorization: LoadResult; refresh: LoadResult }> {
  const peer = await startPeer(2 * LOAD.connections, store);
  try {
    const { refreshTokens } = JSON.parse(peer.readyLine.slice('ready '.length)) as { refreshTokens: string[] };
    const metadata = (await (await fetch(`${peer.url}/.well-known/openid-configuration`)).json()) as { device_authorization_endpoint: string; token_endpoint: string };
    // Refresh first: the default in-memory adapter is an LRU cache of 1000 entries, which the
    // device codes of the other row would flush, grants and refresh tokens included.
    const refresh = await refreshChain(peer.url, new URL(metadata.token_endpoint).pathname, 'bench', refreshTokens);
    process.stderr.write(`  peer (${store}) refresh grant: ${Math.round(refresh.rps)} req/s\n`);
    const deviceAuthorization = await load(
      peer.url,
      [{ method: 'POST', path: new URL(metadata.device_authorization_endpoint).pathname, headers: FORM, body: 'client_id=bench&scope=openid' }],
      LOAD,
    );
    process.stderr.write(`  peer (${store}) device authorization: ${Math.round(deviceAuthorization.rps)} req/s\n`);
    return { deviceAuthorization, refresh };
  } finally {
    await peer.stop();
  }
}

/** argon2 verify alone, with the app's parameters and as many in flight as the load has connections. */
async function argon2Throughput(): Promise<{ rps: number; p50: number }> {
  const hash = await hashCredential('5150');
  for (let i = 0; i < 2 * LOAD.connections; i++) await verifyCredential(hash, '5150'); // warm-up
  const deadline = performance.now() + SECONDS * 1000;
  const samples: number[] = [];
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      if (!(await verifyCredential(hash, '5150'))) throw new Error('argon2 verify failed');
      samples.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: LOAD.connections }, worker));
  return { rps: (samples.length / (performance.now() - started)) * 1000, p50: percentile(samples, 50) };
}

/**
 * The store alone: the Cosmos SDK against the in-process Cosmos-compatible server, as the local
 * host uses it, with as many calls in flight as the load has connections. A device
 * authorization is one create; a refresh is one read and one conditional replace: these are
 * the ceilings of those endpoints on this store, as argon2 is the PIN grant's.
 */
async function storeThroughput(): Promise<{ createPerSecond: number; readReplacePerSecond: number }> {
  const store = await openLocalStore(loadConfig({}));
  try {
    const container = store.container('rateLimits');
    const ids = Array.from({ length: LOAD.connections }, (_, i) => `bench-${i}`);
    for (const id of ids) await container.items.create({ id, n: 0 });
    const rate = async (work: (worker: number, n: number) => Promise<unknown>) => {
      let done = 0;
      const started = performance.now();
      const deadline = started + SECONDS * 1000;
      await Promise.all(
        ids.map(async (_, worker) => {
          while (performance.now() < deadline) await work(worker, done++);
        }),
      );
      return (done / (performance.now() - started)) * 1000;
    };
    const createPerSecond = await rate((worker, n) => container.items.create({ id: `bench-${worker}-${n}`, n }));
    const readReplacePerSecond = await rate(async (worker) => {
      const { resource } = await container.item(ids[worker]!, ids[worker]!).read<{ id: string; n: number; _etag: string }>();
      await container.item(ids[worker]!, ids[worker]!).replace({ id: ids[worker]!, n: resource!.n + 1 }, { accessCondition: { type: 'IfMatch', condition: resource!._etag } });
    });
    return { createPerSecond, readReplacePerSecond };
  } finally {
    await store.close();
  }
}

/** The Functions entry refuses blank Azure endpoints; loading it connects to none of these. */
const AZURE_ENDPOINTS = {
  COSMOS_ENDPOINT: 'https://roger-bench.documents.azure.com:443/',
  SERVICEBUS_NAMESPACE: 'roger-bench.servicebus.windows.net',
  SERVICEBUS_LISTEN_KEY: 'bench-listen-key-0123456789',
  ENTRA_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
  ENTRA_CLIENT_SECRET: 'bench-client-secret',
  ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'bench', key: Buffer.alloc(32, 7).toString('base64') }] }),
};

/** Median wall time of a fresh `node` process: bare, and importing the built Functions entry. */
function coldStart(): { bareMs: number; entryMs: number; importMs: number } {
  const time = (args: string[]) => {
    const runs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const result = spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...AZURE_ENDPOINTS }, stdio: 'ignore' });
      if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status}`);
      runs.push(performance.now() - t0);
    }
    return percentile(runs, 50);
  };
  const bareMs = time(['-e', '']);
  const entryMs = time(['--input-type=module', '-e', "await import('./dist/functions/index.js')"]);
  return { bareMs, entryMs, importMs: entryMs - bareMs };
}

function target(name: string, value: number, atLeast: number) {
  return { name, value, met: value >= atLeast };
}

function budgetCell(row: Row): string {
  const budget = COSMOS_BUDGET[row.operation];
  const used = row.cosmos?.requests ?? 0;
  return `${used} (≤ ${budget} ${budget !== undefined && used <= budget ? 'ok' : 'OVER'})`;
}

const round = (n: number) => (n >= 100 ? Math.round(n) : Math.round(n * 10) / 10);
const ratio = (ours: number, peer: number) => `${(ours / peer).toFixed(2)}×`;

function table(
  rows: Row[],
  approval: Awaited<ReturnType<typeof benchRoger>>['approval'],
  argon2: { rps: number; p50: number },
  storeAlone: { createPerSecond: number; readReplacePerSecond: number },
) {
  const lines = [
    ['operation', 'req/s', 'p50 ms', 'p99 ms', 'Cosmos req/call (budget)', 'RU/call', 'peer req/s', 'peer p50 ms', 'peer p99 ms', 'ours/peer', 'peer on our store req/s', 'ours/that'],
  ];
  for (const row of rows) {
    lines.push([
      row.operation,
      String(round(row.ours.rps)),
      String(row.ours.p50),
      String(row.ours.p99),
      budgetCell(row),
      row.cosmos ? String(row.cosmos.ru) : '-',
      row.peer ? String(round(row.peer.rps)) : '',
      row.peer ? String(row.peer.p50) : '',
      row.peer ? String(row.peer.p99) : '',
      row.peer ? ratio(row.ours.rps, row.peer.rps) : '',
      row.peerOnOurStore ? String(round(row.peerOnOurStore.rps)) : '',
      row.peerOnOurStore ? ratio(row.ours.rps, row.peerOnOurStore.rps) : '',
    ]);
  }
  lines.push([
    'session approval + release of 10 (sequential)',
    String(round(approval.rps)),
    String(round(approval.p50)),
    String(round(approval.p99)),
    approval.cosmos ? String(approval.cosmos.requests) : '-',
    approval.cosmos ? String(approval.cosmos.ru) : '-',
    '',
    '',
    '',
    '',
    '',
    '',
  ]);
  const pin = rows.find((r) => r.operation.startsWith('password grant'))!;
  lines.push(['argon2id verify alone (ceiling of the PIN grant)', String(round(argon2.rps)), String(round(argon2.p50)), '', '', '', '', '', '', `PIN grant ${ratio(pin.ours.rps, argon2.rps)}`, '', '']);
  const device = rows.find((r) => r.operation === 'device authorization')!;
  const refresh = rows.find((r) => r.operation === 'refresh grant')!;
  lines.push(['Cosmos SDK create alone (ceiling of device authorization)', String(round(storeAlone.createPerSecond)), '', '', '1', '', '', '', '', `dev. auth. ${ratio(device.ours.rps, storeAlone.createPerSecond)}`, '', '']);
  lines.push(['Cosmos SDK read + replace alone (ceiling of refresh)', String(round(storeAlone.readReplacePerSecond)), '', '', '2', '', '', '', '', `refresh ${ratio(refresh.ours.rps, storeAlone.readReplacePerSecond)}`, '', '']);
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((line) => line[i]!.length)));
  return lines.map((line) => line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

async function main() {
  const started = performance.now();
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
  process.stderr.write(`bench: ${SECONDS} s per row after 2 s warm-up, ${LOAD.connections} connections\n`);

  const roger = await startRoger(rogerBenchEnv);
  let ours: Awaited<ReturnType<typeof benchRoger>>;
  try {
    ours = await benchRoger(await setUpRoger(roger.url, 2 * LOAD.connections), roger);
  } finally {
    await roger.stop();
  }
  const peer = await benchPeer('memory');
  const peerOnOurStore = await benchPeer('cosmos');
  const rows = ours.rows.map((row) =>
    row.operation === 'device authorization'
      ? { ...row, peer: peer.deviceAuthorization, peerOnOurStore: peerOnOurStore.deviceAuthorization }
      : row.operation === 'refresh grant'
        ? { ...row, peer: peer.refresh, peerOnOurStore: peerOnOurStore.refresh }
        : row,
  );
  const argon2 = ours.argon2;
  const storeAlone = await storeThroughput();
  const cold = coldStart();

  const output = table(rows, ours.approval, argon2, storeAlone);
  const rowOf = (operation: string) => rows.find((r) => r.operation === operation)!;
  const targets = [
    target('device authorization at least as fast as the peer', rowOf('device authorization').ours.rps / peer.deviceAuthorization.rps, 1),
    target('refresh grant at least as fast as the peer', rowOf('refresh grant').ours.rps / peer.refresh.rps, 1),
    target('device authorization at least as fast as the peer on the same store', rowOf('device authorization').ours.rps / peerOnOurStore.deviceAuthorization.rps, 1),
    target('refresh grant at least as fast as the peer on the same store', rowOf('refresh grant').ours.rps / peerOnOurStore.refresh.rps, 1),
    target('password grant ≥ 80% of argon2 verify alone', rowOf('password grant (PIN)').ours.rps / argon2.rps, 0.8),
    {
      name: 'every measured request got its operation’s expected status',
      value: rows.filter(answeredAsExpected).length / rows.length,
      met: rows.every(answeredAsExpected),
    },
    {
      name: 'hot paths within their Cosmos request budgets',
      value: rows.filter((r) => (r.cosmos?.requests ?? 0) <= (COSMOS_BUDGET[r.operation] ?? Infinity)).length / rows.length,
      met: rows.every((r) => (r.cosmos?.requests ?? 0) <= (COSMOS_BUDGET[r.operation] ?? Infinity)),
    },
  ];
  const results = {
    version: pkg.version,
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    machine: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    load: LOAD,
    rows,
    approval: ours.approval,
    argon2,
    storeAlone,
    coldStart: cold,
    cosmosBudget: COSMOS_BUDGET,
    targets,
    seconds: Math.round((performance.now() - started) / 1000),
  };
  await mkdir('bench', { recursive: true });
  await writeFile('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${output}\n\n`);
  process.stdout.write(
    `cold start (median of 7 fresh processes): node -e '' ${round(cold.bareMs)} ms; importing dist/functions/index.js ${round(cold.entryMs)} ms (+${round(cold.importMs)} ms)\n`,
  );
  process.stdout.write(
    'peer: oidc-provider with its in-memory adapter, and with an adapter on our store (Cosmos SDK, in-process server); same machine, same load, one server at a time\n',
  );
  for (const t of targets) process.stdout.write(`target ${t.met ? 'met    ' : 'NOT MET'}  ${t.name} (${t.value.toFixed(2)})\n`);
  process.stdout.write(`bench/results.json written; ${results.seconds} s in all\n`);
}

await main();
