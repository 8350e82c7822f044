import { describe, expect, it } from 'vitest';
import { DownloadFailed, downloadDocument } from '../src/download.js';

/**
 * docs/clients.md#bad-documents: a download URL is the permission to read the document, so it is
 * used over https only (plain http to this machine alone, for a local run's Graph stand-in).
 * The receiving tests download from that stand-in over http://localhost.
 */
describe('the download of a released document', () => {
  it('refuses a plain http URL to another machine at once, without connecting, as a failed download', async () => {
    // The signal is aborted already: were the URL let through, fetch would fail with an
    // AbortError before sending anything, so no traffic leaves this machine either way.
    const refused = await downloadDocument('http://192.0.2.1/drive/items/1/content?tempauth=x', 'Report.pdf', AbortSignal.abort()).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DownloadFailed);
    expect(refused).toMatchObject({ reason: 'download-failed', message: 'the download URL is not https' });
  });

  it('refuses what is not a URL, or not http(s), as a failed download', async () => {
    const signal = new AbortController().signal;
    await expect(downloadDocument('not a url', 'a.pdf', signal)).rejects.toMatchObject({ reason: 'download-failed' });
    await expect(downloadDocument('file:///etc/passwd', 'a.pdf', signal)).rejects.toMatchObject({ reason: 'download-failed' });
  });
});
