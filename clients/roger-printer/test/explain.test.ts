import { describe, expect, it } from 'vitest';
import { ApiError } from '@roger-cloud/client-kit/http';
import { explain } from '../src/explain.js';

/** Every error line the agent prints (docs/clients.md#roger-printer): one line, the useful part, never a credential. */
describe('explain', () => {
  it('cuts out a SAS signature, whether in a connection string or a signed URL', () => {
    const sas = 'SharedAccessSignature sr=amqp%3A%2F%2Flocalhost%2Freleases&sig=c2VjcmV0&se=1&skn=printer';
    expect(explain(new Error(`cannot connect with Endpoint=sb://localhost/;SharedAccessSignature=${sas};x`))).not.toMatch(/c2VjcmV0|sig=c/);
    expect(explain(new Error('GET https://host/doc?sv=1&sig=c2VjcmV0&se=2 failed'))).toBe(
      'GET https://host/doc?sv=1&sig=[SAS]&se=2 failed',
    );
  });

  it('gives the last of the SDK’s gathered tries, the API’s status, and one line', () => {
    expect(explain(new AggregateError([new Error('first'), new Error('last\n  try')]))).toBe('last try');
    expect(explain(new ApiError(503, { title: 'Roger is busy' }))).toBe('Roger is busy (HTTP 503)');
  });
});
