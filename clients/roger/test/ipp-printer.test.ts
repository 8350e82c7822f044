import { request, type ClientRequest } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import { canReadListeners, isLoopback, listeningSockets } from './fixtures/listening.js';
import { ipptool, signInToRoger, startIppWorld, startPrinter, testFile, testResults, type IppWorld } from './fixtures/ipp-world.js';

/**
 * `roger printer` (docs/clients.md#the-ipp-printer) with ipptool as the print dialog: a job's
 * attributes become the Roger job's options, unsupported formats, attributes and operations get
 * their IPP status codes, and it listens on this machine's loopback only.
 */
const OPERATION_HEAD = `GROUP operation-attributes-tag
	ATTR charset attributes-charset utf-8
	ATTR naturalLanguage attributes-natural-language en
	ATTR uri printer-uri $uri
	ATTR name requesting-user-name ines`;

describe('roger printer', () => {
  let world: IppWorld;
  let folder: string;
  const report = multiPagePdf(5, 'Quarterly report');

  beforeAll(async () => {
    world = await startIppWorld();
    folder = await mkdtemp(join(tmpdir(), 'roger-ipp-'));
    await writeFile(join(folder, 'report.pdf'), report);
    await writeFile(join(folder, 'photo.jpg'), Buffer.from('ffd8ffe000104a46494600', 'hex'));
  }, 30_000);
  afterAll(async () => {
    await world?.close();
  });

  /** Runs one .test file of ipptool tests; every test in it must pass (ipptool checks the answers). */
  async function expectIpptoolPasses(name: string, tests: string) {
    const run = await ipptool(['-t', '-I', world.printerUri, await testFile(folder, name, tests)], folder);
    const results = testResults(run.output);
    expect(
      results.filter((result) => result.result !== 'PASS'),
      run.output,
    ).toEqual([]);
    expect(results, run.output).toHaveLength(tests.match(/^\tNAME /gm)!.length);
    return run.output;
  }

  it('a Print-Job becomes a Roger job with its copies, sides, colour and paper; the IPP job completes once Roger has it queued', async () => {
    await expectIpptoolPasses(
      'print-with-options.test',
      `{
	NAME "Print-Job with options"
	OPERATION Print-Job
	${OPERATION_HEAD}
	ATTR name job-name "Quarterly report"
	ATTR mimeMediaType document-format application/pdf
	GROUP job-attributes-tag
	ATTR integer copies 3
	ATTR keyword sides one-sided
	ATTR keyword print-color-mode color
	ATTR keyword media na_letter_8.5x11in
	FILE report.pdf
	STATUS successful-ok
	EXPECT job-id OF-TYPE integer WITH-VALUE >0
	EXPECT job-state OF-TYPE enum WITH-VALUE 5
}
{
	NAME "Until Roger has it"
	DELAY 1
	OPERATION Get-Job-Attributes
	${OPERATION_HEAD}
	ATTR integer job-id $job-id
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 9 REPEAT-NO-MATCH REPEAT-LIMIT 5
	EXPECT job-state-reasons WITH-VALUE job-completed-successfully
	EXPECT job-state-message WITH-VALUE "/^Queued in Roger as job [0-9a-f]+: release it at any Roger printer$$/"
	EXPECT copies WITH-VALUE 3
	EXPECT sides WITH-VALUE one-sided
	EXPECT print-color-mode WITH-VALUE color
	EXPECT media WITH-VALUE na_letter_8.5x11in
	EXPECT job-originating-user-name WITH-VALUE ines
}
{
	NAME "Listed among the completed jobs"
	OPERATION Get-Jobs
	${OPERATION_HEAD}
	ATTR keyword which-jobs completed
	ATTR keyword requested-attributes job-id,job-name,job-state
	STATUS successful-ok
	EXPECT job-name WITH-VALUE "Quarterly report"
}`,
    );
    const [job] = await world.jobs();
    expect(job).toMatchObject({
      fileName: 'Quarterly report.pdf',
      size: report.length,
      state: 'queued',
      options: { copies: 3, duplex: false, color: true, paperSize: 'Letter' },
    });
    expect(world.stderr()).toContain(`queued in Roger as job ${job!.id}`);
    expect(world.ms.fileBytes(world.upn, 'Print/Quarterly report.pdf')?.equals(report)).toBe(true);
  });

  it('media-col gives the paper by its size, as print dialogs send it; what is not asked for stays Roger’s default', async () => {
    await expectIpptoolPasses(
      'print-media-col.test',
      `{
	NAME "Print-Job with media-col"
	OPERATION Print-Job
	${OPERATION_HEAD}
	ATTR name job-name "Flyer"
	ATTR mimeMediaType document-format application/octet-stream
	GROUP job-attributes-tag
	ATTR collection media-col {
		MEMBER collection media-size {
			MEMBER integer x-dimension 14800
			MEMBER integer y-dimension 21000
		}
		MEMBER keyword media-source auto
		MEMBER integer media-top-margin 0
	}
	FILE report.pdf
	STATUS successful-ok
}`,
    );
    await expect
      .poll(async () => (await world.jobs()).find((job) => job.fileName === 'Flyer.pdf')?.state, { timeout: 10_000 })
      .toBe('queued');
    const flyer = (await world.jobs()).find((job) => job.fileName === 'Flyer.pdf');
    expect(flyer?.options).toMatchObject({ copies: 1, duplex: true, color: false, paperSize: 'A5' });
  });

  it('Create-Job then Send-Document prints the same way; one document per job; Close-Job without a document aborts the job', async () => {
    await expectIpptoolPasses(
      'create-job.test',
      `{
	NAME "Create-Job"
	OPERATION Create-Job
	${OPERATION_HEAD}
	ATTR name job-name "Minutes"
	GROUP job-attributes-tag
	ATTR integer copies 2
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 4
	EXPECT job-state-reasons WITH-VALUE job-incoming
}
{
	NAME "Send-Document, not the last"
	OPERATION Send-Document
	${OPERATION_HEAD}
	ATTR integer job-id $job-id
	ATTR boolean last-document false
	ATTR mimeMediaType document-format application/pdf
	FILE report.pdf
	STATUS server-error-multiple-document-jobs-not-supported
}
{
	NAME "Send-Document, the last"
	OPERATION Send-Document
	${OPERATION_HEAD}
	ATTR integer job-id $job-id
	ATTR boolean last-document true
	ATTR mimeMediaType document-format application/pdf
	FILE report.pdf
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 5
}
{
	NAME "Create-Job never sent"
	OPERATION Create-Job
	${OPERATION_HEAD}
	ATTR name job-name "Never sent"
	STATUS successful-ok
}
{
	NAME "Close-Job"
	OPERATION Close-Job
	${OPERATION_HEAD}
	ATTR integer job-id $job-id
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 8
}`,
    );
    await expect
      .poll(async () => (await world.jobs()).find((job) => job.fileName === 'Minutes.pdf')?.state, { timeout: 10_000 })
      .toBe('queued');
    const minutes = (await world.jobs()).find((job) => job.fileName === 'Minutes.pdf');
    expect(minutes).toMatchObject({ size: report.length, options: { copies: 2 } });
    expect((await world.jobs()).some((job) => job.fileName === 'Never sent.pdf')).toBe(false);
  });

  it('Cancel-Job while the document goes up: the IPP job is canceled at once, and the Roger job deleted as soon as it exists', async () => {
    // A slow Graph keeps the upload going while the cancel comes.
    world.ms.slowNext(3, 1500);
    await expectIpptoolPasses(
      'cancel.test',
      `{
	NAME "Print-Job"
	OPERATION Print-Job
	${OPERATION_HEAD}
	ATTR name job-name "Changed my mind"
	ATTR mimeMediaType document-format application/pdf
	FILE report.pdf
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 5
}
{
	NAME "Cancel-Job"
	OPERATION Cancel-Job
	${OPERATION_HEAD}
	ATTR integer job-id $job-id
	STATUS successful-ok
}
{
	NAME "Canceled"
	OPERATION Get-Job-Attributes
	${OPERATION_HEAD}
	ATTR integer job-id $job-id
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 7
	EXPECT job-state-reasons WITH-VALUE job-canceled-by-user
}`,
    );
    await expect.poll(() => /job \d+ cancelled \(Roger job (\w+) deleted\)/.exec(world.stderr())?.[1], { timeout: 15_000 }).toBeTruthy();
    const rogerJobId = /job \d+ cancelled \(Roger job (\w+) deleted\)/.exec(world.stderr())![1];
    expect((await world.jobs()).find((job) => job.id === rogerJobId)).toMatchObject({
      fileName: 'Changed my mind.pdf',
      state: 'cancelled',
    });
  });

  it('a format other than PDF gets client-error-document-format-not-supported, named in the unsupported group; no Roger job is made', async () => {
    const before = (await world.jobs()).length;
    await expectIpptoolPasses(
      'formats.test',
      `{
	NAME "JPEG, as declared"
	OPERATION Print-Job
	${OPERATION_HEAD}
	ATTR mimeMediaType document-format image/jpeg
	FILE photo.jpg
	STATUS client-error-document-format-not-supported
	EXPECT document-format IN-GROUP unsupported-attributes-tag WITH-VALUE image/jpeg
	EXPECT !job-id
}
{
	NAME "JPEG, as octet-stream to be sniffed"
	OPERATION Print-Job
	${OPERATION_HEAD}
	ATTR mimeMediaType document-format application/octet-stream
	FILE photo.jpg
	STATUS client-error-document-format-not-supported
	EXPECT !job-id
}
{
	NAME "Validate-Job with PostScript"
	OPERATION Validate-Job
	${OPERATION_HEAD}
	ATTR mimeMediaType document-format application/postscript
	STATUS client-error-document-format-not-supported
}
{
	NAME "The printer says what it takes"
	OPERATION Get-Printer-Attributes
	${OPERATION_HEAD}
	ATTR keyword requested-attributes document-format-supported,document-format-default
	STATUS successful-ok
	EXPECT document-format-supported WITH-ALL-VALUES "/^application\\/(pdf|octet-stream)$$/" COUNT 2
	EXPECT document-format-default WITH-VALUE application/pdf
}`,
    );
    expect((await world.jobs()).length).toBe(before);
  });

  it('an unsupported attribute or value refuses the job with client-error-attributes-or-values-not-supported under ipp-attribute-fidelity, and is ignored (and named) without it', async () => {
    const before = (await world.jobs()).length;
    await expectIpptoolPasses(
      'attributes.test',
      `{
	NAME "Fidelity: refused"
	OPERATION Print-Job
	${OPERATION_HEAD}
	ATTR boolean ipp-attribute-fidelity true
	ATTR mimeMediaType document-format application/pdf
	GROUP job-attributes-tag
	ATTR keyword sides two-sided-short-edge
	ATTR integer copies 1000
	ATTR integer number-up 2
	FILE report.pdf
	STATUS client-error-attributes-or-values-not-supported
	EXPECT sides IN-GROUP unsupported-attributes-tag WITH-VALUE two-sided-short-edge
	EXPECT copies IN-GROUP unsupported-attributes-tag WITH-VALUE 1000
	EXPECT number-up IN-GROUP unsupported-attributes-tag OF-TYPE unsupported
	EXPECT !job-id
}
{
	NAME "No fidelity: validated with the defaults instead"
	OPERATION Validate-Job
	${OPERATION_HEAD}
	ATTR mimeMediaType document-format application/pdf
	GROUP job-attributes-tag
	ATTR keyword sides two-sided-short-edge
	ATTR keyword print-color-mode auto
	STATUS successful-ok-ignored-or-substituted-attributes
	EXPECT sides IN-GROUP unsupported-attributes-tag WITH-VALUE two-sided-short-edge
	EXPECT print-color-mode IN-GROUP unsupported-attributes-tag WITH-VALUE auto
}
{
	NAME "An operation it does not do"
	OPERATION Hold-Job
	${OPERATION_HEAD}
	ATTR integer job-id 1
	STATUS server-error-operation-not-supported
}
{
	NAME "Another printer's URI"
	OPERATION Get-Printer-Attributes
	GROUP operation-attributes-tag
	ATTR charset attributes-charset utf-8
	ATTR naturalLanguage attributes-natural-language en
	ATTR uri printer-uri ipp://localhost/printers/other
	STATUS client-error-not-found
}`,
    );
    expect((await world.jobs()).length).toBe(before);
  });

  it('requested-attributes by group: job-template is the -default/-supported/-ready side of job attributes, printer-description the rest', async () => {
    await expectIpptoolPasses(
      'groups.test',
      `{
	NAME "job-template"
	OPERATION Get-Printer-Attributes
	${OPERATION_HEAD}
	ATTR keyword requested-attributes job-template
	STATUS successful-ok
	EXPECT copies-supported
	EXPECT media-col-database
	EXPECT !operations-supported
	EXPECT !charset-supported
	EXPECT !printer-name
}
{
	NAME "printer-description"
	OPERATION Get-Printer-Attributes
	${OPERATION_HEAD}
	ATTR keyword requested-attributes printer-description
	STATUS successful-ok
	EXPECT operations-supported
	EXPECT printer-name
	EXPECT !copies-supported
	EXPECT !sides-default
}`,
    );
  });

  it('bytes that are not an IPP message get client-error-bad-request; other HTTP is refused, but for the icon', async () => {
    const garbled = await post(world.port, Buffer.from('0200000b0000000701470012617474726962', 'hex'));
    expect(garbled.status).toBe(200);
    expect(garbled.body.readUInt16BE(2)).toBe(0x0400);
    expect(garbled.body.readInt32BE(4)).toBe(7);
    expect((await post(world.port, Buffer.from('hello'), { 'content-type': 'text/plain' })).status).toBe(415);
    // A DNS name rebound to 127.0.0.1 by a web page is not this printer's name.
    expect((await post(world.port, Buffer.from('hello'), { host: 'printer.example.com' })).status).toBe(400);
    // The icon that printer-icons names, for print dialogs.
    const icon = await fetch(`http://127.0.0.1:${world.port}/icon.png`);
    expect(icon.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await icon.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect((await fetch(`http://127.0.0.1:${world.port}/ipp/print`)).status).toBe(405);
  });

  it.runIf(canReadListeners)(
    'listens on loopback only: the kernel lists its sockets on 127.0.0.1 and ::1 alone, and 127.0.0.1 answers',
    async () => {
      const listening = /listening on (.+); stop/.exec(world.stderr())?.[1];
      expect(listening?.split(' and ')[0]).toBe(`127.0.0.1:${world.port}`);
      expect(await reaches('127.0.0.1', world.port)).toBe(true);
      // Proven from /proc, not by connecting to this machine's other addresses: tests talk to loopback only.
      const sockets = await listeningSockets(world.printer.pid!);
      expect(sockets).toContainEqual({ address: '127.0.0.1', port: world.port });
      for (const socket of sockets) expect(isLoopback(socket.address), `${socket.address}:${socket.port}`).toBe(true);
      if (listening?.includes('[::1]')) expect(sockets).toContainEqual({ address: '::1', port: world.port });
    },
  );

  it('without OneDrive connected, a job is aborted with the advice to connect it, and the printer goes on', async () => {
    const { configDir } = await signInToRoger(world.host, world.ms, { connected: false });
    const started = startPrinter(configDir, ['--port', '0']);
    try {
      const printerUri = await started.uri;
      const run = await ipptool(
        [
          '-t',
          printerUri,
          await testFile(
            folder,
            'not-connected.test',
            `{
	NAME "Print-Job"
	OPERATION Print-Job
	${OPERATION_HEAD}
	ATTR mimeMediaType document-format application/pdf
	FILE report.pdf
	STATUS successful-ok
}
{
	NAME "Aborted, saying why"
	DELAY 1
	OPERATION Get-Job-Attributes
	${OPERATION_HEAD}
	ATTR integer job-id $job-id
	STATUS successful-ok
	EXPECT job-state WITH-VALUE 8 REPEAT-NO-MATCH REPEAT-LIMIT 5
	EXPECT job-state-reasons WITH-VALUE aborted-by-system
	EXPECT job-state-message WITH-VALUE "/^Roger did not take the job: your OneDrive is not connected.*connect it in the Roger web app's Settings/"
}
{
	NAME "Still accepting jobs"
	OPERATION Get-Printer-Attributes
	${OPERATION_HEAD}
	STATUS successful-ok
	EXPECT printer-is-accepting-jobs WITH-VALUE true
}`,
          ),
        ],
        folder,
      );
      expect(
        testResults(run.output).map((result) => result.result),
        run.output,
      ).toEqual(['PASS', 'PASS', 'PASS']);
      expect(started.stderr()).toMatch(/job 1 failed: your OneDrive is not connected/);
    } finally {
      started.child.kill('SIGTERM');
      await started.exited;
    }
  });

  it('holds at most two large documents at once: a third gets server-error-busy at once, before its bytes are all sent', async () => {
    const opening = (requestId: number) => Buffer.concat([printJobHead(requestId, world.printerUri), report]);
    const padding = Buffer.alloc(100 * 1024, 0x20); // past the attribute part: these requests are bringing documents
    // Two documents on their way, their ends not sent yet.
    const held = [streamingPost(world.port), streamingPost(world.port)];
    held.forEach((request, index) => request.write(Buffer.concat([opening(100 + index), padding])));
    // A large document that is no PDF: refused as no PDF while there is room (no job made), busy once both are in.
    const notPdf = () => post(world.port, Buffer.concat([printJobHead(200, world.printerUri), Buffer.from('not a pdf'), padding]));
    const statusOf = async () => (await notPdf()).body.readUInt16BE(2);
    await expect.poll(statusOf, { interval: 50, timeout: 10_000 }).toBe(0x0507);

    // A third large one is answered before it ends, with its own request-id; a request without a document is served.
    const third = streamingPost(world.port);
    third.write(Buffer.concat([opening(300), padding]));
    const answer = await third.answer;
    expect(answer.body.readUInt16BE(2)).toBe(0x0507);
    expect(answer.body.readInt32BE(4)).toBe(300);
    expect(answer.body.toString('latin1')).toContain('send this one again in a moment');
    third.destroy();
    const attributes = await post(world.port, printJobHead(400, world.printerUri, 0x000b));
    expect(attributes.body.readUInt16BE(2)).toBe(0x0000);
    // A small document (up to 64 KiB, no more than any request) is always taken: it becomes a job.
    const small = await post(world.port, Buffer.concat([printJobHead(500, world.printerUri), report]));
    expect(small.body.readUInt16BE(2)).toBe(0x0000);

    // One given up by its sender, one finished: both places come back once the finished one is queued in Roger.
    held[1]!.destroy();
    held[0]!.end();
    const printed = await held[0]!.answer;
    expect(printed.body.readUInt16BE(2)).toBe(0x0000);
    await expect.poll(statusOf, { interval: 50, timeout: 10_000 }).toBe(0x0411);
    await expect.poll(() => world.stderr()).toMatch(/job \d+ .*queued in Roger as job/);
  });

  it('without a sign-in it does not start, and says how to sign in', async () => {
    const started = startPrinter(await mkdtemp(join(tmpdir(), 'roger-ipp-nobody-')), ['--port', '0']);
    await expect(started.uri).rejects.toThrow();
    expect(await started.exited).toBe(1);
    expect(started.stderr()).toBe('roger: not signed in: run `roger login`\n');
  });
});

/** A raw POST to the printer's path: for what no IPP client would send. */
function post(port: number, body: Buffer, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const sent = request(
      { host: '127.0.0.1', port, path: '/ipp/print', method: 'POST', headers: { 'content-type': 'application/ipp', ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks) }));
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

/**
 * The head of a raw IPP request to the printer (RFC 8010 §3.1): Print-Job (or `operation`) with
 * the operation attributes every request starts with and a PDF format; the document follows it.
 */
function printJobHead(requestId: number, printerUri: string, operation = 0x0002): Buffer {
  const attribute = (tag: number, name: string, value: string) => {
    const head = Buffer.alloc(3);
    head.writeUInt8(tag, 0);
    head.writeUInt16BE(name.length, 1);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(Buffer.byteLength(value), 0);
    return Buffer.concat([head, Buffer.from(name), length, Buffer.from(value)]);
  };
  const start = Buffer.alloc(8);
  start.writeUInt16BE(0x0200, 0);
  start.writeUInt16BE(operation, 2);
  start.writeInt32BE(requestId, 4);
  return Buffer.concat([
    start,
    Buffer.from([0x01]),
    attribute(0x47, 'attributes-charset', 'utf-8'),
    attribute(0x48, 'attributes-natural-language', 'en'),
    attribute(0x45, 'printer-uri', printerUri),
    attribute(0x42, 'requesting-user-name', 'ines'),
    ...(operation === 0x0002 ? [attribute(0x49, 'document-format', 'application/pdf')] : []),
    Buffer.from([0x03]),
  ]);
}

/** A POST whose body is written bit by bit (chunked), as a print dialog streams a document; `answer` is its response. */
function streamingPost(port: number) {
  let sent!: ClientRequest;
  const answer = new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    sent = request(
      { host: '127.0.0.1', port, path: '/ipp/print', method: 'POST', headers: { 'content-type': 'application/ipp' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks) }));
      },
    );
    sent.on('error', reject);
  });
  // A request given up on (destroyed) rejects its answer; nobody waits for that one.
  answer.catch(() => undefined);
  return {
    answer,
    write: (bytes: Buffer) => sent.write(bytes),
    end: () => sent.end(),
    destroy: () => sent.destroy(),
  };
}

/** Whether a TCP connection to address:port is accepted. */
function reaches(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
