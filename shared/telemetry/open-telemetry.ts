import { metrics, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { formatLogLine } from '../logging/logger.js';
import { appVersion as version } from '../version.js';
import { attributeKeys, metricNames } from './metric-names.js';
import type { DependencyCall, DependencyOutcome, LogLevel, Telemetry } from './telemetry.js';

/**
 * The Telemetry port over the OpenTelemetry API: counters, dependency spans and log records go to
 * whatever providers were registered (the Azure Monitor distro, console exporters, or a test's
 * in-memory exporters). Loaded only when telemetry is on (start.ts).
 */
export function openTelemetry({ replacesHostLog }: { replacesHostLog: boolean }): Telemetry {
  const meter = metrics.getMeter('roger', version);
  const tracer = trace.getTracer('roger', version);
  const logger = logs.getLogger('roger', version);
  const counter = (name: string, description: string) => meter.createCounter(name, { description });
  const signIns = counter(metricNames.signIns, 'Sign-in attempts by method and outcome');
  const lockouts = counter(metricNames.lockouts, 'Locks that began: an account, a printer or an address');
  const refreshReuse = counter(metricNames.refreshReuse, 'Rotated refresh tokens presented again (family revoked)');
  const releases = counter(metricNames.releases, 'Release operations');
  const messagesSent = counter(metricNames.messagesSent, 'Messages sent to printers over Service Bus');
  const refusals = counter(metricNames.refusals, 'Responses with status 429 or 503');

  return {
    signIn: (method, outcome) => signIns.add(1, { [attributeKeys.method]: method, [attributeKeys.outcome]: outcome }),
    lockout: (scope) => lockouts.add(1, { [attributeKeys.scope]: scope }),
    refreshReuse: () => refreshReuse.add(1),
    release: () => releases.add(1),
    messagesSent: (count) => messagesSent.add(count),
    refusal: (status) => refusals.add(1, { [attributeKeys.status]: status }),
    dependency: (call, work, outcome) =>
      tracer.startActiveSpan(spanName(call), { kind: SpanKind.CLIENT, attributes: callAttributes(call) }, async (span) => {
        try {
          const result = await work();
          const answered = outcome?.(result) ?? {};
          span.setAttributes(outcomeAttributes(call, answered));
          if (answered.statusCode !== undefined && answered.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          return result;
        } catch (error) {
          // The error's name and status only: messages may quote what a person sent.
          const statusCode = statusOf(error);
          span.setAttributes({
            'error.type': errorName(error),
            ...outcomeAttributes(call, statusCode === undefined ? {} : { statusCode }),
          });
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      }),
    log: (level, event, fields, time) => {
      const attributes: Attributes = { 'roger.event': event };
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) attributes[key] = value;
      logger.emit({
        severityNumber: SEVERITY[level],
        severityText: level.toUpperCase(),
        body: formatLogLine(event, fields),
        attributes,
        ...(time === undefined ? {} : { timestamp: time }),
      });
    },
    replacesHostLog,
  };
}

const SEVERITY: Readonly<Record<LogLevel, SeverityNumber>> = {
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};

/** `cosmosdb read users`, `servicebus send releases`, `graph item`: low cardinality, as span names must be. */
const spanName = (call: DependencyCall) => [call.system, call.operation, call.target].filter(Boolean).join(' ');

/** The semantic conventions' names where there are some, so Application Insights types the dependency. */
function callAttributes({ system, operation, target }: DependencyCall): Attributes {
  switch (system) {
    case 'cosmosdb':
      return { 'db.system.name': 'azure.cosmosdb', 'db.operation.name': operation, ...(target ? { 'db.collection.name': target } : {}) };
    case 'servicebus':
      return {
        'messaging.system': 'servicebus',
        'messaging.operation.name': operation,
        ...(target ? { 'messaging.destination.name': target } : {}),
      };
    default:
      return {
        'roger.dependency.system': system,
        'roger.dependency.operation': operation,
        ...(target ? { 'roger.dependency.target': target } : {}),
      };
  }
}

function outcomeAttributes({ system }: DependencyCall, { statusCode, requestCharge, messageCount }: DependencyOutcome): Attributes {
  const attributes: Attributes = {};
  if (statusCode !== undefined) attributes[system === 'cosmosdb' ? 'db.response.status_code' : 'http.response.status_code'] = statusCode;
  if (requestCharge !== undefined) attributes['azure.cosmosdb.operation.request_charge'] = requestCharge;
  if (messageCount !== undefined) attributes['messaging.batch.message_count'] = messageCount;
  return attributes;
}

/** The status the SDKs put on their errors (Cosmos `code`, Graph `statusCode`, REST `statusCode`). */
function statusOf(error: unknown): number | undefined {
  const e = error as { statusCode?: unknown; code?: unknown; status?: unknown } | undefined;
  for (const value of [e?.statusCode, e?.code, e?.status])
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  return undefined;
}

/** A class name such as `RestError` or `TimeoutError`; anything else is reported as `Error`. */
function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name) ? name : 'Error';
}
