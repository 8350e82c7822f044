import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { ManagedIdentityCredential } from '@azure/identity';
import { afterAll, describe, expect, it } from 'vitest';
import { invocationLogger } from '../../shared/logging/logger.js';
import { cosmosCall } from '../../shared/store/dependency-spans.js';
import { managedIdentityOf } from '../../shared/telemetry/azure-monitor.js';
import { noTelemetry, type Telemetry } from '../../shared/telemetry/telemetry.js';
import { recordTelemetry } from '../helpers/telemetry.js';

const request = (method: string, path: string, headers: Record<string, string> = {}) =>
  createPipelineRequest({
    method: method as 'GET',
    url: `https://roger.documents.azure.com:443${path}`,
    headers: createHttpHeaders(headers),
  });

describe('Cosmos DB requests as dependency calls (store/dependency-spans.ts)', () => {
  it.each([
    ['GET', '/dbs/roger/colls/accounts/docs/login%3Aab12', {}, { operation: 'read', target: 'accounts' }],
    ['PUT', '/dbs/roger/colls/jobs/docs/6f1c', {}, { operation: 'replace', target: 'jobs' }],
    ['DELETE', '/dbs/roger/colls/deviceCodes/docs/x', {}, { operation: 'delete', target: 'deviceCodes' }],
    ['PATCH', '/dbs/roger/colls/rateLimits/docs/sign-in-failures%3A203.0.113.9%4012', {}, { operation: 'patch', target: 'rateLimits' }],
    ['POST', '/dbs/roger/colls/jobs/docs', { 'x-ms-documentdb-isquery': 'True' }, { operation: 'query', target: 'jobs' }],
    ['POST', '/dbs/roger/colls/accounts/docs', { 'x-ms-documentdb-is-upsert': 'True' }, { operation: 'upsert', target: 'accounts' }],
    ['POST', '/dbs/roger/colls/jobs/docs', { 'x-ms-cosmos-is-batch-request': 'True' }, { operation: 'batch', target: 'jobs' }],
    ['POST', '/dbs/roger/colls/audit/docs', {}, { operation: 'create', target: 'audit' }],
    ['GET', '/dbs/roger/colls/audit/docs', {}, { operation: 'readFeed', target: 'audit' }],
    ['GET', '/dbs/roger/colls/tenants', {}, { operation: 'read:colls', target: 'tenants' }],
    ['GET', '/dbs/roger/colls/jobs/pkranges', {}, { operation: 'read:pkranges', target: 'jobs' }],
    ['GET', '/dbs/roger', {}, { operation: 'read:dbs' }],
    ['GET', '/', {}, { operation: 'read:account' }],
  ])('%s %s is %j', (method, path, headers, expected) => {
    expect(cosmosCall(request(method, path, headers))).toEqual({ system: 'cosmosdb', ...expected });
  });

  it('keeps neither item ids nor names it does not know: a container outside the list is `other`, an odd path word too', () => {
    const call = cosmosCall(request('GET', '/dbs/roger/colls/uma%40fabrikam.test/docs/uma%40fabrikam.test'));
    expect(call).toEqual({ system: 'cosmosdb', operation: 'read', target: 'other' });
    expect(JSON.stringify(cosmosCall(request('GET', '/dbs/roger/colls/jobs/uma@fabrikam.test')))).not.toContain('uma');
  });
});

describe('the OpenTelemetry adapter (telemetry/open-telemetry.ts)', () => {
  const recorder = recordTelemetry();
  afterAll(() => recorder.shutdown());

  it('a failed call is an error span with the error class and status only, never its message', async () => {
    const failure = Object.assign(new Error('no user uma@fabrikam.test with PIN 4711'), { name: 'RestError', statusCode: 404 });
    await expect(
      recorder.telemetry.dependency({ system: 'cosmosdb', operation: 'read', target: 'accounts' }, () => Promise.reject(failure)),
    ).rejects.toBe(failure);
    const odd = Object.assign(new Error('x'), { name: 'uma@fabrikam.test' });
    await expect(
      recorder.telemetry.dependency({ system: 'graph', operation: 'item', target: 'drive' }, () => Promise.reject(odd)),
    ).rejects.toBe(odd);
    const { spans } = await recorder.exported();
    expect(spans[0]).toMatchObject({
      name: 'cosmosdb read accounts',
      status: { code: 2 },
      attributes: { 'error.type': 'RestError', 'db.response.status_code': 404 },
    });
    expect(spans[1]!.attributes).toMatchObject({ 'error.type': 'Error', 'roger.dependency.system': 'graph' });
    expect(JSON.stringify(spans)).not.toMatch(/uma|4711/);
  });
});

describe('the logger (logging/logger.ts)', () => {
  function context() {
    const lines: string[] = [];
    return {
      lines,
      context: { log: (l: string) => lines.push(l), warn: (l: string) => lines.push(l), error: (l: string) => lines.push(l) },
    };
  }
  const recording = (replacesHostLog: boolean) => {
    const events: unknown[] = [];
    const telemetry: Telemetry = { ...noTelemetry, replacesHostLog, log: (level, event, fields) => events.push({ level, event, fields }) };
    return { telemetry, events };
  };

  it('gives each event to telemetry with its fields, and writes the line unless telemetry replaces the host log', () => {
    for (const replacesHostLog of [false, true]) {
      const { lines, context: invocation } = context();
      const { telemetry, events } = recording(replacesHostLog);
      invocationLogger(invocation as never, telemetry).warn('refresh-token-reuse', { tenantId: 't1', familyId: 'f1' });
      expect(events).toEqual([{ level: 'warn', event: 'refresh-token-reuse', fields: { tenantId: 't1', familyId: 'f1' } }]);
      expect(lines).toEqual(replacesHostLog ? [] : ['refresh-token-reuse tenantId=t1 familyId=f1']);
    }
  });
});

describe('Application Insights authentication (telemetry/azure-monitor.ts)', () => {
  it('Entra ID as the managed identity the authentication string names, or AZURE_CLIENT_ID; nothing without AAD', () => {
    expect(managedIdentityOf('Authorization=AAD;ClientId=11111111-1111-1111-1111-111111111111', undefined)).toBeInstanceOf(
      ManagedIdentityCredential,
    );
    expect(managedIdentityOf('ClientId=22222222-2222-2222-2222-222222222222;Authorization=AAD', undefined)).toBeInstanceOf(
      ManagedIdentityCredential,
    );
    expect(managedIdentityOf('Authorization=AAD', '33333333-3333-3333-3333-333333333333')).toBeInstanceOf(ManagedIdentityCredential);
    expect(managedIdentityOf(undefined, '33333333-3333-3333-3333-333333333333')).toBeUndefined();
    expect(managedIdentityOf('Authorization=Key', undefined)).toBeUndefined();
  });
});
