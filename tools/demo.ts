// `npm run demo`: the whole story on this machine, told step by step. It starts the API (local
// host, in-process Cosmos server and AMQP broker), then plays the operator, the admin, the
// printer panel and the user's phone over plain HTTP, and the printer's AMQP side through the
// real @azure/service-bus SDK with nothing but the SAS token the API gave it. Last, the tenant
// connects Microsoft Entra ID and a user signs in with Microsoft through the sign-in page and the
// in-process Entra stand-in (tools/microsoft).
import { createHash, randomBytes } from 'node:crypto';
import { get as httpsGet } from 'node:https';
import { ServiceBusClient } from '@azure/service-bus';
import qrcode from 'qrcode-terminal';
import { routeTable } from '../functions/routes.js';
import { loadConfig } from '../shared/config/load-config.js';
import { freePort } from './free-port.js';
import { localAdapters } from './local/adapters.js';
import { startLocalHost } from './local-host.js';

const verbose = process.argv.includes('--verbose');
const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (n: number, text: string) => say(`\n\x1b[1m${n}. ${text}\x1b[0m`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function main(): Promise<void> {
  const operatorKey = randomBytes(24).toString('base64url');
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    SERVICEBUS_LOCAL_PORT: '0',
    ROGER_OPERATOR_KEY: operatorKey,
    DEVICE_CODE_POLL_INTERVAL_SECONDS: '1',
  });
  const api = await startLocalHost({
    config,
    table: routeTable,
    adapters: localAdapters,
    port,
    log: (level, line) => (verbose || level === 'error' ? say(`   · ${line}`) : undefined),
  });
  const base = `http://localhost:${port}`;

  async function call(
    method: string,
    path: string,
    options: { token?: string; json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    const response = await fetch(`${base}${path}`, { method, headers, ...(body ? { body } : {}) });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  }

  async function pollForTokens(clientId: string, deviceCode: string, interval: number): Promise<Json> {
    for (;;) {
      await sleep(interval * 1000);
      const { status, body } = await call('POST', '/oauth/token', {
        form: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: clientId, device_code: deviceCode },
      });
      if (status === 200) return body;
      if (body.error !== 'authorization_pending' && body.error !== 'slow_down') throw new Error(`poll: ${body.error}`);
    }
  }

  const showQr = (text: string) =>
    new Promise<void>((resolve) =>
      qrcode.generate(text, { small: true }, (art) => {
        say(art.replace(/^/gm, '      '));
        resolve();
      }),
    );

  try {
    say(`Roger Cloud demo — API at ${base}, in-memory Cosmos DB and AMQP broker in this process.`);

    step(1, 'The operator creates the tenant "contoso" with its first admin');
    const admin = { email: 'alex@contoso.example', username: 'alex', fullName: 'Alex Admin', password: 'correct-horse-battery' };
    const tenant = await call('POST', '/api/tenants', {
      headers: { 'x-operator-key': operatorKey },
      json: { slug: 'contoso', name: 'Contoso', admin },
    });
    say(`   201 → tenant ${tenant.body.id} in region ${tenant.body.region}`);
    const adminToken = (
      await call('POST', '/oauth/token', {
        form: { grant_type: 'password', client_id: 'roger-mobile', tenant: 'contoso', username: 'alex', password: admin.password },
      })
    ).body.access_token as string;
    say('   Alex signs in on the mobile app (password grant) and adds a user:');
    const dana = { email: 'dana@contoso.example', username: 'dana', fullName: 'Dana Doe', password: 'dana-password-2026', pin: '2468' };
    const created = await call('POST', '/api/users', { token: adminToken, json: dana });
    say(`   201 → user dana (${created.body.id}), with a password and a PIN`);

    step(2, 'A new printer asks to join (RFC 8628 device authorization) and shows a QR code');
    const enrollment = (await call('POST', '/oauth/device_authorization', { form: { client_id: 'roger-emb', scope: 'device' } })).body;
    await showQr(enrollment.verification_uri_complete);
    say(`   user code ${enrollment.user_code} — the panel polls every ${enrollment.interval} s`);
    const deviceTokensPromise = pollForTokens('roger-emb', enrollment.device_code, enrollment.interval);
    const approval = await call('POST', '/api/device-codes/approve', {
      token: adminToken,
      json: { user_code: enrollment.user_code, name: 'MFP-3F', location: 'Building 1, 3rd floor' },
    });
    say(`   Alex scans it and approves → printer ${approval.body.deviceId}; its release subscription exists now`);
    const deviceTokens = await deviceTokensPromise;
    say(`   the panel's poll returns a device access token (${deviceTokens.expires_in} s) and a rotating refresh token`);

    step(3, 'Dana submits two print jobs from her phone');
    const danaToken = (
      await call('POST', '/oauth/token', {
        form: { grant_type: 'password', client_id: 'roger-mobile', tenant: 'contoso', username: 'dana', password: dana.password },
      })
    ).body.access_token as string;
    for (const fileName of ['Board minutes.pdf', 'Floor plan.pdf']) {
      const job = await call('POST', '/api/jobs', {
        token: danaToken,
        json: { fileName, size: 482133, options: { copies: 1, color: fileName.startsWith('Floor') } },
      });
      await call('POST', `/api/jobs/${job.body.id}/ready`, { token: danaToken });
      say(`   job ${job.body.id} "${fileName}" → queued`);
    }

    step(4, 'Dana walks to the printer: the panel shows a session QR code, her phone approves');
    const sessionStart = (
      await call('POST', '/oauth/device_authorization', {
        token: deviceTokens.access_token,
        form: { client_id: 'roger-emb', scope: 'session' },
      })
    ).body;
    await showQr(sessionStart.verification_uri_complete);
    const asking = await call('GET', `/api/device-codes/${sessionStart.user_code}`, { token: danaToken });
    say(`   the phone shows who is asking: ${asking.body.printer.name}, ${asking.body.printer.location}`);
    const sessionPromise = pollForTokens('roger-emb', sessionStart.device_code, sessionStart.interval);
    const approved = await call('POST', '/api/device-codes/approve', { token: danaToken, json: { user_code: sessionStart.user_code } });
    say(`   approved → released ${approved.body.release.released} job(s) to the printer's subscription`);
    const session = await sessionPromise;
    say(`   the panel receives a session token (scope "${session.scope}", acting at this printer)`);

    step(5, 'The printer fetches its releases over AMQP with only a SAS token from the API');
    const amqp = (await call('POST', '/api/devices/me/amqp-token', { token: deviceTokens.access_token })).body;
    say(`   ${amqp.amqpUrl}  entity ${amqp.entityPath}  (Listen-only, until ${amqp.expiresOn})`);
    const client = new ServiceBusClient(
      `Endpoint=sb://${new URL(amqp.amqpUrl).host};SharedAccessSignature=${amqp.sasToken};UseDevelopmentEmulator=true`,
      { retryOptions: { maxRetries: 1, timeoutInMs: 5000 } },
    );
    const [topic, , subscription] = String(amqp.entityPath).split('/');
    const receiver = client.createReceiver(topic!, subscription!);
    const messages = await receiver.receiveMessages(10, { maxWaitTimeInMs: 3000 });
    for (const message of messages) {
      say(
        `   ⎙ printing "${message.body.fileName}" for ${message.body.user.username} (${message.body.options.copies} copy, ${message.body.options.color ? 'colour' : 'mono'})`,
      );
      await receiver.completeMessage(message);
      await call('POST', `/api/jobs/${message.body.jobId}/printed`, { token: session.access_token });
    }
    await receiver.close();
    await client.close();

    step(6, "Dana's job list afterwards");
    const jobs = await call('GET', '/api/jobs', { token: danaToken });
    for (const job of jobs.body.items) say(`   ${job.state.padEnd(9)} ${job.fileName}`);
    if (messages.length !== 2 || jobs.body.items.some((job: Json) => job.state !== 'printed')) {
      throw new Error('the printer did not receive exactly the two jobs');
    }

    step(7, 'Contoso connects Microsoft Entra ID, and Megan signs in on her phone with Microsoft');
    const browser = demoBrowser(base);
    const consent = await call('POST', '/api/tenant/entra/connect', { token: adminToken });
    // Contoso's Entra administrator consents (the in-process stand-in, no UI), then a Microsoft
    // sign-in at that organisation proves the consent came from it.
    // Contoso's administrator at Microsoft (a directory admin there) both times: the consent and the sign-in that proves it.
    const asContosoAdmin = (url: string) => (url.startsWith(base) ? url : `${url}&login_hint=admin%40contoso.example`);
    const bound = await browser.go(asContosoAdmin(consent.body.adminConsentUrl), {}, asContosoAdmin);
    say(`   admin consent → ${bound.status}: ${/<h1>([^<]*)<\/h1>/.exec(bound.text)?.[1] ?? '?'}`);
    // The phone opens our authorization endpoint (code + PKCE) in the system browser.
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = 'cloud.roger.mobile:/oauth2redirect';
    const authorize = new URL(`${base}/oauth/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'roger-mobile',
      redirect_uri: redirectUri,
      scope: 'jobs offline_access',
      state: 'demo',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const step1 = await browser.go(authorize.href);
    const step2 = await browser.submit(step1.text, '/oauth/authorize', { account: 'contoso' });
    say('   the sign-in page offers "Sign in with Microsoft" for Contoso; Megan picks her account at Microsoft');
    const back = await browser.submit(step2.text, '/oauth/authorize/microsoft', {}, (url) =>
      url.startsWith(base) ? url : `${url}&login_hint=megan%40contoso.example`,
    );
    const code = new URL(back.location ?? 'x:/').searchParams.get('code');
    if (!code) throw new Error(`Microsoft sign-in ended at ${back.status} ${back.location ?? ''}`);
    const megan = (
      await call('POST', '/oauth/token', {
        form: { grant_type: 'authorization_code', client_id: 'roger-mobile', code, redirect_uri: redirectUri, code_verifier: verifier },
      })
    ).body;
    const me = (await call('GET', '/api/me', { token: megan.access_token })).body;
    say(`   ${redirectUri}?code=… → tokens; /api/me: ${me.user.fullName} <${me.user.email}>, ${me.user.role}, created just in time`);

    say('\nDone: 2 jobs released over AMQP and printed, and a Microsoft sign-in. Run `npm start` to keep an API running.');
  } finally {
    await api.close();
  }
}

/**
 * Just enough of a browser for step 7: follows redirects (our host over http, the Entra
 * stand-in over https with the certificate it made at start, which only this demo skips
 * checking), keeps our cookies (CSRF, the Microsoft sign-in binding), and submits a page's form
 * with its hidden fields. Stops at a redirect to the app (cloud.roger.mobile:).
 */
function demoBrowser(base: string) {
  const cookies = new Map<string, string>();
  const load = async (url: string, init: { method?: string; body?: string } = {}) => {
    if (url.startsWith('https:')) {
      return new Promise<{ status: number; location?: string; text: string }>((resolve, reject) => {
        httpsGet(url, { rejectUnauthorized: false }, (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              ...(response.headers.location ? { location: response.headers.location } : {}),
              text,
            }),
          );
        }).on('error', reject);
      });
    }
    const headers: Record<string, string> = { 'accept-language': 'en' };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (init.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (value) cookies.set(name, value);
      else cookies.delete(name);
    }
    const location = response.headers.get('location') ?? undefined;
    return { status: response.status, ...(location ? { location } : {}), text: await response.text() };
  };
  const go = async (url: string, init: { method?: string; body?: string } = {}, rewrite = (next: string) => next) => {
    let answer = await load(url, init);
    while (answer.status >= 300 && answer.status < 400 && answer.location && /^https?:/.test(answer.location)) {
      answer = await load(rewrite(new URL(answer.location, base).href));
    }
    return answer;
  };
  const submit = (page: string, action: string, fields: Record<string, string>, rewrite?: (next: string) => string) => {
    const form = new RegExp(`<form[^>]*action="${action}"[^>]*>([\\s\\S]*?)</form>`).exec(page)?.[1] ?? '';
    const hidden = Object.fromEntries(
      [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]),
    );
    return go(`${base}${action}`, { method: 'POST', body: new URLSearchParams({ ...hidden, ...fields }).toString() }, rewrite);
  };
  return { go, submit };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
