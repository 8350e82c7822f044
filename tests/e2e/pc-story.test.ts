import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipptool, startPrinter, testFile } from '../../clients/roger/test/fixtures/ipp-world.js';
import { configHome, loginThroughBrowser, runRoger } from '../../clients/roger/test/login-world.js';
import { AgentProcess, startArgs, workFolder } from '../../clients/roger-printer/test/panel-process.js';
import { freshTenant, uniqueName } from '../helpers/fixtures.js';
import { consentToOneDrive, loadCallback, startHostWithMicrosoft } from '../helpers/onedrive.js';
import { multiPagePdf } from '../helpers/pdf.js';
import { api, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * The PC story of issue 19, end to end against the local run, with the two reference programs
 * as people run them (docs/clients.md): Dana signs in with `roger login` (code + PKCE through
 * the sign-in page), prints a real multi-page PDF with `roger print` (uploaded straight to her
 * OneDrive, the Graph stand-in), a printer running `roger-printer` is enrolled by the admin, Dana
 * approves a session at its panel from her phone, the agent receives the release over AMQP,
 * writes a file whose bytes equal the original and reports it printed, and `roger jobs` says so.
 * A second document comes from another application's print dialog: ipptool sends a Print-Job to
 * `roger printer`, the local IPP printer, and the same session prints it too.
 */
const admin: Person = { email: 'alex@contoso.test', username: 'alex', fullName: 'Alex Admin', password: 'alex-password-12' };
const dana: Person = { email: 'dana@contoso.test', username: 'dana', fullName: 'Dana Doe', password: 'dana-password-12' };

describe('the PC story: roger login, roger print, a session at roger-printer, printed', () => {
  let host: TestHost;
  let close: () => Promise<void>;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const started = await startHostWithMicrosoft();
    host = started.host;
    close = () => started.host.close();
    const tenant = await freshTenant(host, 'contoso', admin, [dana]);
    const person = tenant.users[0]!;
    const { callbackUrl } = await consentToOneDrive(host, started.ms, person.token, `${uniqueName('dana')}@contoso.example`);
    expect((await loadCallback(callbackUrl)).status).toBe(200);
    Object.assign(story, { slug: tenant.slug, adminToken: tenant.admin.token, danaToken: person.token });
  });
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
    await close?.();
  });
  const story = { slug: '', adminToken: '', danaToken: '' };

  it('prints the bytes Dana printed (roger print, and a print dialog through roger printer), and her job list shows them printed', async () => {
    // Dana's computer: roger signs in through the browser, then prints a 5-page PDF.
    const config = await configHome();
    cleanup.push(config.remove);
    const login = await loginThroughBrowser(host, config.dir, story.slug, dana);
    expect(login.stdout).toMatch(/signed in as Dana Doe/);

    const files = await mkdtemp(join(tmpdir(), 'pc-story-'));
    cleanup.push(() => rm(files, { recursive: true, force: true }));
    const document = multiPagePdf(5, 'Quarterly report');
    const path = join(files, 'Quarterly report.pdf');
    await writeFile(path, document);
    const printed = await runRoger(['print', path, '--copies', '2', '--colour'], config.dir);
    expect(printed.code, printed.stderr).toBe(0);
    const jobId = /queued (\S+) Quarterly report\.pdf/.exec(printed.stdout)?.[1];
    expect(jobId, printed.stdout).toBeDefined();

    // Another application prints through roger printer (IPP Everywhere on loopback): ipptool's Print-Job.
    const ippDocument = multiPagePdf(2, 'Floor plan');
    await writeFile(join(files, 'floor-plan.pdf'), ippDocument);
    const ipp = startPrinter(config.dir, ['--port', '0']);
    cleanup.push(async () => void ipp.child.kill());
    const printJob = `{
	NAME "Print-Job from a print dialog"
	OPERATION Print-Job
	GROUP operation-attributes-tag
	ATTR charset attributes-charset utf-8
	ATTR naturalLanguage attributes-natural-language en
	ATTR uri printer-uri $uri
	ATTR name requesting-user-name dana
	ATTR name job-name "Floor plan"
	ATTR mimeMediaType document-format application/pdf
	GROUP job-attributes-tag
	ATTR keyword sides two-sided-long-edge
	FILE floor-plan.pdf
	STATUS successful-ok
}`;
    const sent = await ipptool(['-t', await ipp.uri, await testFile(files, 'print-job.test', printJob)], files);
    expect(sent.code, sent.output).toBe(0);
    let ippJobId: string | undefined;
    for (let tries = 0; tries < 40 && !ippJobId; tries++) {
      const listed = await api(host, story.danaToken, 'GET', '/api/jobs?state=queued');
      ippJobId = listed.body.items.find((job: { fileName: string }) => job.fileName === 'Floor plan.pdf')?.id;
      if (!ippJobId) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(ippJobId, ipp.stderr()).toBeDefined();
    ipp.child.kill('SIGTERM');
    await ipp.exited;

    // The printer: roger-printer enrolls (the admin approves its code), then waits for releases.
    const folder = await workFolder();
    cleanup.push(folder.remove);
    const agent = AgentProcess.start(startArgs(host, folder));
    cleanup.push(async () => agent.kill());
    const [, enrollCode] = await agent.waitFor(/user code: (\S+)/);
    const enrolled = await api(host, story.adminToken, 'POST', '/api/device-codes/approve', {
      user_code: enrollCode,
      name: 'MFP-3F',
      location: 'Building 1, 3rd floor',
    });
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
    await agent.waitFor(/enrolled: printer/);
    await agent.waitFor(/ready: receiving releases/);

    // At the panel: a session QR; Dana's phone approves it, which releases her queued job.
    agent.type('qr');
    const [, sessionCode] = await agent.waitFor(/session code: (\S+)/);
    const approved = await api(host, story.danaToken, 'POST', '/api/device-codes/approve', { user_code: sessionCode });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.release.released).toBe(2);
    const outputs = new Map<string, string>();
    for (let n = 0; n < 2; n++) {
      const [, printedJob, outputPath] = await agent.waitFor(/printed (\S+) → (.+)/, 20_000);
      outputs.set(printedJob!, outputPath!.trim());
    }

    // The files the printer wrote are the documents, byte for byte.
    expect([...outputs.keys()].sort()).toEqual([jobId, ippJobId].sort());
    expect(Buffer.compare(await readFile(outputs.get(jobId!)!), document)).toBe(0);
    expect(Buffer.compare(await readFile(outputs.get(ippJobId!)!), ippDocument)).toBe(0);
    expect((await stat(outputs.get(jobId!)!)).mode & 0o777).toBeLessThanOrEqual(0o644);

    // roger jobs shows it printed (the agent reports before it logs the next job: wait for the state).
    let jobs = '';
    for (let tries = 0; tries < 20 && !/printed/.test(jobs); tries++) {
      const listed = await runRoger(['jobs'], config.dir);
      expect(listed.code, listed.stderr).toBe(0);
      jobs = listed.stdout.split('\n').find((line) => line.includes(jobId!)) ?? '';
      if (!/printed/.test(jobs)) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(jobs).toMatch(/printed/);
    expect(jobs).toMatch(/Quarterly report\.pdf/);

    expect(await agent.quit()).toBe(0);
  });
});
