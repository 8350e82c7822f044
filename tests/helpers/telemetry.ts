import { metrics, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { openTelemetry } from '../../shared/telemetry/open-telemetry.js';
import type { Telemetry } from '../../shared/telemetry/telemetry.js';

/** One metric as exported: its name and each data point's attributes and value. */
export interface ExportedMetric {
  readonly name: string;
  readonly points: readonly { readonly attributes: Record<string, unknown>; readonly value: unknown }[];
}

/** What the exporters received, as plain data: every field an exporter sends, less timestamps and trace/span ids. */
export interface ExportedTelemetry {
  readonly spans: readonly Record<string, unknown>[];
  readonly logs: readonly Record<string, unknown>[];
  readonly metrics: readonly ExportedMetric[];
}

/**
 * The app's telemetry wired to in-memory exporters, as the Azure Monitor distro wires it to
 * Application Insights: the same OpenTelemetry API, global providers of the SDK, nothing stubbed.
 * Each test file runs in its own worker, so the globals are this file's own.
 */
export function recordTelemetry(): { telemetry: Telemetry; exported(): Promise<ExportedTelemetry>; shutdown(): Promise<void> } {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logExporter })] });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  logs.setGlobalLoggerProvider(loggerProvider);

  return {
    telemetry: openTelemetry({ replacesHostLog: false }),
    async exported() {
      await reader.forceFlush();
      const spans = spanExporter.getFinishedSpans().map((span) => ({
        name: span.name,
        kind: span.kind,
        status: span.status,
        attributes: span.attributes,
        events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
        links: span.links.map((link) => link.attributes),
        resource: span.resource.attributes,
        scope: span.instrumentationScope,
      }));
      const records = logExporter.getFinishedLogRecords().map((record) => ({
        body: record.body,
        eventName: record.eventName,
        severityText: record.severityText,
        attributes: record.attributes,
        resource: record.resource.attributes,
        scope: record.instrumentationScope,
      }));
      const last = metricExporter.getMetrics().at(-1);
      const exportedMetrics = (last?.scopeMetrics ?? []).flatMap((scope) =>
        scope.metrics.map((metric) => ({
          name: metric.descriptor.name,
          description: metric.descriptor.description,
          points: (metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]).map((point) => ({
            attributes: point.attributes,
            value: point.value,
          })),
        })),
      );
      return { spans, logs: records, metrics: exportedMetrics };
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
      trace.disable();
      metrics.disable();
      logs.disable();
    },
  };
}

/** The sum of a counter's points whose attributes include `attributes`. */
export function counted(exported: ExportedTelemetry, name: string, attributes: Record<string, unknown> = {}): number {
  const metric = exported.metrics.find((m) => m.name === name);
  return (metric?.points ?? [])
    .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
    .reduce((sum, point) => sum + Number(point.value), 0);
}
