// `npm run demo`: the whole story on this machine, told step by step. It starts the API (local
// host, in-process Cosmos server, AMQP broker and Entra ID/Graph stand-in), then plays the
// operator, the admin and the user's phone over plain HTTP, while the printer and the user's PC
// are the real reference programs (docs/clients.md), each in its own process: roger-printer
// enrolls, shows its panel's QR codes, receives releases over AMQP with only its SAS token and
// "prints" into a folder; roger signs in with the device flow and uploads a real multi-page PDF
// straight to the user's OneDrive (the stand-in). Last, the tenant connects Microsoft Entra ID
// and a user signs in with Microsoft through the sign-in page.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { routeTable } from '../functions/routes.js';
import { loadConfig } from '../shared/config/load-config.js';
import { multiPagePdf } from '../tests/helpers/pdf.js';
import { demoBrowser } from './demo/browser.js';
import { Program } from './demo/program.js';
import { freePort } from './free-port.js';
import { localAdapters } from './local/adapters.js';
import { startLocalHost } from './local-host.js';

const verbose = process.argv.includes('--verbose');
const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (n: number, text: string) => say(`\n\x1b[1m${n}. ${text}\x1b[0m`);
/** A program's lines, under the demo's own. */
const show = (line: string) => say(`      ${line}`);

/** The programs as `npm run build` bundled them (this file runs as dist/tools/demo.js). */
const ROGER = fileURLToPath(new URL('../../clients/roger/bin/roger.js', import.meta.url));
const ROGER_PRINTER = fileURLToPath(new URL('../../clients/roger-printer/bin/roger-printer.js', import.meta.url));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What Dana prints from her PC: real PDFs of a few pages each, made here (tests/helpers/pdf.ts). */
const DOCUMENTS = [
  { fileName: 'Board minutes.pdf', pages: 3, flags: [] as string[] },
  { fileName: 'Floor plan.pdf', pages: 2, flags: ['--colour', '--paper', 'A3'] },
];

async function main(): Promise<void> {
  const operatorKey = randomBytes(24).toString('base64url');
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    SERVICEBUS_LOCAL_PORT: '0',
    MICROSOFT_LOCAL_PORT: '0',
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
  // The printer's state and output, and the PC's config folder and documents: the demo's own.
  const work = await mkdtemp(join(tmpdir(), 'roger-demo-'));
  const running: Program[] = [];

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

  /** Approves a device code from a phone signed in as `token` (the mobile app's approve call). */
  async function approve(token: string, userCode: string, extra: Record<string, string> = {}) {
    const answer = await call('POST', '/api/device-codes/approve', { token, json: { user_code: userCode, ...extra } });
    if (answer.status !== 200) throw new Error(`approving ${userCode}: ${answer.status} ${answer.body.detail ?? ''}`);
    return answer.body;
  }

  const start = (label: string, script: string, args: string[], env: Record<string, string> = {}) => {
    const program = Program.start(label, script, args, { cwd: work, env }, show);
    running.push(program);
    return program;
  };
  // roger keeps its sign-in in this folder instead of the person's own config directory.
  const pc = { ROGER_CONFIG_DIR: join(work, 'pc-config') };
  const roger = (...args: string[]) => start('PC', ROGER, args, pc);

  try {
    say(`Roger Cloud demo — API at ${base}, in-memory Cosmos DB, AMQP broker and Entra ID/Graph stand-in in this process.`);
    say(`The printer and Dana's PC are the programs roger-printer and roger, run in ${work}.`);

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

    step(2, 'A new printer starts: roger-printer asks to join (RFC 8628 device authorization) and shows a QR code');
    const printer = start('MFP-3F', ROGER_PRINTER, [
      'start',
      '--api',
      base,
      '--state',
      'printer/state.json',
      '--output',
      'printer/printed',
      '--name',
      'MFP-3F',
    ]);
    const [, enrollmentCode] = await printer.waitFor(/user code: (\S+)/);
    await printer.waitFor(/open: \S+/);
    const approval = await approve(adminToken, enrollmentCode!, { name: 'MFP-3F', location: 'Building 1, 3rd floor' });
    say(`   Alex scans it and approves → printer ${approval.deviceId}; its release subscription exists now`);
    await printer.waitFor(/enrolled: printer \S+/);
    await printer.waitFor(/ready: receiving releases/);
    say('   the printer keeps its tokens in a 0600 state file and listens on its own subscription with a Listen-only SAS token');

    step(3, 'Dana connects her OneDrive for Business once, from her phone');
    const danaToken = (
      await call('POST', '/oauth/token', {
        form: { grant_type: 'password', client_id: 'roger-mobile', tenant: 'contoso', username: 'dana', password: dana.password },
      })
    ).body.access_token as string;
    const connect = await call('GET', '/api/onedrive/connect', { token: danaToken });
    if (connect.status !== 200) throw new Error(`OneDrive connect: ${connect.status} ${connect.body.detail ?? ''}`);
    // Microsoft (the stand-in) asks Dana's consent as dana@contoso.example, then sends the browser back to us.
    const consented = await demoBrowser(base).go(`${connect.body.authorizationUrl}&login_hint=dana%40contoso.example`);
    if (consented.status !== 200) throw new Error(`OneDrive consent ended at ${consented.status} ${consented.location ?? ''}`);
    say(`   consent at Microsoft → ${consented.status}; her Print folder is where her documents wait to be printed`);

    step(4, 'On her PC, Dana signs in with roger login --device and approves on her phone');
    const login = roger('login', '--device', '--api', base);
    const [, loginCode] = await login.waitFor(/enter the code:\s+([A-Z0-9-]{6,})/);
    await login.waitFor(/Waiting for the approval/);
    const asking = await call('GET', `/api/device-codes/${loginCode}`, { token: danaToken });
    say(`   the phone shows who is asking: ${asking.body.clientId} (scope "${asking.body.scope}"); Dana approves`);
    await approve(danaToken, loginCode!);
    if ((await login.finished()) !== 0) throw new Error('roger login did not succeed');

    step(5, 'Dana prints two PDFs: roger print uploads each straight to her OneDrive, never through Roger');
    await mkdir(join(work, 'documents'), { recursive: true });
    const sent = new Map<string, Buffer>();
    for (const document of DOCUMENTS) {
      const bytes = multiPagePdf(document.pages, document.fileName.replace(/\.pdf$/, ''));
      await writeFile(join(work, 'documents', document.fileName), bytes);
      const print = roger('print', ...document.flags, join('documents', document.fileName));
      const [, jobId] = await print.waitFor(/queued (\S+) /);
      if ((await print.finished()) !== 0) throw new Error(`roger print ${document.fileName} did not succeed`);
      sent.set(jobId!, bytes);
      say(`   ${document.fileName}: ${document.pages} pages, ${bytes.length} bytes, in Dana's OneDrive Print folder, job queued`);
    }

    step(6, 'Dana walks to the printer: its panel shows a session QR code, her phone approves');
    // From here the printer may print a released job before it says its session is signed in.
    const printing = printer.reader();
    printer.type('qr');
    const [, sessionCode] = await printer.waitFor(/session code: (\S+)/);
    await printer.waitFor(/open: \S+/);
    const who = await call('GET', `/api/device-codes/${sessionCode}`, { token: danaToken });
    say(`   the phone shows who is asking: ${who.body.printer.name}, ${who.body.printer.location}`);
    const approved = await approve(danaToken, sessionCode!);
    say(`   approved → released ${approved.release.released} job(s) to the printer's subscription`);
    await printer.waitFor(/signed in: session \S+/);

    step(7, 'The printer has received the releases over AMQP, downloaded each from OneDrive and printed it');
    const printed = new Map<string, string>();
    while (printed.size < sent.size) {
      const [, verb, jobId, outcome] = await printing.waitFor(/^(printed|failed) (\S+?):? (?:→ )?(.+)$/m);
      if (verb === 'failed') throw new Error(`the printer could not print job ${jobId}: ${outcome}`);
      printed.set(jobId!, outcome!.trim());
    }
    for (const [jobId, bytes] of sent) {
      const path = printed.get(jobId);
      if (!path) throw new Error(`the printer did not print job ${jobId}`);
      const written = await readFile(resolve(work, path));
      if (!written.equals(bytes)) throw new Error(`${path} differs from the PDF Dana sent`);
    }
    say(`   both files in the printer's output folder are byte for byte the PDFs Dana sent`);

    // The printer reports each job printed after writing its file, and a job it printed before
    // its session was signed in is reported once it is: wait for both reports.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const jobs = (await call('GET', '/api/jobs', { token: danaToken })).body.items as Json[];
      if (jobs.length === 2 && jobs.every((job) => job.state === 'printed')) break;
      if (Date.now() > deadline) throw new Error('the printer did not report both jobs printed');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    say('   and reported each printed (POST /api/jobs/{id}/printed with the session token)');

    step(8, "Dana's jobs afterwards, on her PC: roger jobs");
    const list = roger('jobs');
    if ((await list.finished()) !== 0) throw new Error('roger jobs did not succeed');

    printer.type('quit');
    if ((await printer.finished()) !== 0) throw new Error('roger-printer did not stop cleanly');

    step(9, 'Contoso connects Microsoft Entra ID, and Megan signs in on her phone with Microsoft');
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

    say(
      '\nDone: 2 jobs released over AMQP and printed, and a Microsoft sign-in. The printed files equal the PDFs sent from the PC.' +
        ' Run `npm start` to keep an API running.',
    );
  } finally {
    for (const program of running) program.stop();
    await api.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
