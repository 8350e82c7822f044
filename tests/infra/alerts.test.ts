import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributeKeys, metricAttributes, metricNames, refusalStatuses } from '../../shared/telemetry/metric-names.js';
import type { Telemetry } from '../../shared/telemetry/telemetry.js';
import { recordTelemetry } from '../helpers/telemetry.js';

/**
 * The alert rules in the compiled templates (docs/operations.md#what-to-watch) against what they
 * watch: every app metric a log query names is one the app emits (shared/telemetry/metric-names.ts),
 * with the attribute keys the app gives it, every platform metric and dimension is one Azure Monitor documents for that resource type, every
 * rule notifies its template's action group, and the set covers what on-call needs. Compiled here
 * with the pinned compiler (infra/README.md#compiling), not read from dist/.
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Template {
  readonly resources: Record<string, JsonObject> | JsonObject[];
  readonly variables?: Record<string, Json>;
  readonly parameters?: Record<string, JsonObject>;
}

/** A resource of a compiled template, its copy loop expanded; `template` is the (nested) template declaring it. */
interface Declared {
  readonly path: string;
  readonly resource: JsonObject;
  readonly template: Template;
}

/**
 * Platform metrics the alerts may use, with their dimensions and aggregations, as Azure Monitor's
 * supported-metrics reference lists them (the `source` page of each resource type).
 */
const platformMetrics: Record<string, { source: string; metrics: Record<string, { dimensions: string[]; aggregations: string[] }> }> = {
  'Microsoft.DocumentDB/databaseAccounts': {
    source: 'https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-documentdb-databaseaccounts-metrics',
    metrics: {
      TotalRequests: {
        dimensions: ['DatabaseName', 'CollectionName', 'Region', 'StatusCode', 'OperationType', 'Status', 'CapacityType'],
        aggregations: ['Count'],
      },
    },
  },
  'Microsoft.ServiceBus/namespaces': {
    source: 'https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-servicebus-namespaces-metrics',
    metrics: { DeadletteredMessages: { dimensions: ['EntityName'], aggregations: ['Average', 'Minimum', 'Maximum'] } },
  },
  'Microsoft.Cdn/profiles': {
    source: 'https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-cdn-profiles-metrics',
    metrics: {
      Percentage5XX: { dimensions: ['Endpoint', 'ClientRegion', 'ClientCountry'], aggregations: ['Average'] },
      OriginHealthPercentage: { dimensions: ['Origin', 'OriginGroup'], aggregations: ['Average'] },
    },
  },
};

function compile(file: string): Template {
  const bicep = execFileSync('tools/bicep/bicep.sh', { encoding: 'utf8' }).trim();
  return JSON.parse(execFileSync(bicep, ['build', file, '--stdout'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as Template;
}

const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Replaces `[variables('v')[copyIndex()].field]` with that field of the loop's current item. */
function substitute(value: Json, variable: string, item: JsonObject): Json {
  if (typeof value === 'string') {
    const whole = new RegExp(`^\\[variables\\('${variable}'\\)\\[copyIndex\\(\\)\\]\\.(\\w+)\\]$`).exec(value);
    return whole ? (item[whole[1]!] ?? null) : value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, variable, item));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, variable, item)]));
  return value;
}

/** Every resource of a template and of the templates it deploys, loops over a variable expanded. */
function declared(template: Template, path = ''): Declared[] {
  const list = Array.isArray(template.resources) ? template.resources : Object.values(template.resources);
  return list.flatMap((resource) => {
    const loop = isObject(resource.copy) ? /^\[length\(variables\('(\w+)'\)\)\]$/.exec(String(resource.copy.count)) : null;
    // Loops over a variable the compiler wrote out as a literal array (ours); others stay one declaration.
    const items = loop ? template.variables?.[loop[1]!] : undefined;
    const instances = Array.isArray(items)
      ? items.map((item) => ({
          path: `${path}/${String((item as JsonObject).name)}`,
          resource: substitute(resource, loop![1]!, item as JsonObject) as JsonObject,
        }))
      : [{ path: `${path}/${String(resource.name)}`, resource }];
    return instances.flatMap(({ path: here, resource: instance }) => {
      const own: Declared = { path: here, resource: instance, template };
      const nested = isObject(instance.properties) && isObject(instance.properties.template) ? instance.properties.template : undefined;
      return nested ? [own, ...declared(nested as unknown as Template, here)] : [own];
    });
  });
}

const ofType = (all: readonly Declared[], type: string) => all.filter((d) => d.resource.type === type);
const props = (d: Declared) => d.resource.properties as JsonObject;

/**
 * A template string as text: `[variables('v')]` is that variable, and `[format('…{0}…', a)]` its
 * literal with each argument written in as `<a>` (a variable's own expression, brackets dropped).
 */
function rendered(value: string, template: Template): string {
  const variable = /^\[variables\('(\w+)'\)\]$/.exec(value);
  if (variable) return rendered(String(template.variables?.[variable[1]!]), template);
  const format = /^\[format\('((?:[^']|'')*)', (.*)\)\]$/s.exec(value);
  if (!format) return value;
  const args = format[2]!.split(/, (?![^(]*\))/).map((arg) => {
    const inner = /^variables\('(\w+)'\)$/.exec(arg);
    return inner ? rendered(String(template.variables?.[inner[1]!]), template).replace(/^\[(.*)\]$/s, '$1') : arg;
  });
  return format[1]!.replaceAll("''", "'").replace(/\{(\d+)\}/g, (_, i: string) => `<${args[Number(i)]!}>`);
}

function logQueries(all: readonly Declared[]): { path: string; query: string }[] {
  return ofType(all, 'Microsoft.Insights/scheduledQueryRules').flatMap((d) =>
    ((props(d).criteria as JsonObject).allOf as JsonObject[]).map((c) => ({ path: d.path, query: rendered(String(c.query), d.template) })),
  );
}

/** The app metric names a KQL query filters `customMetrics` on: `name == "x"` and `name in ("x", "y")`. */
function customMetricNames(query: string): string[] {
  if (!/\bcustomMetrics\b/.test(query)) return [];
  const equal = [...query.matchAll(/\bname\s*==\s*"([^"]*)"/g)].map((m) => m[1]!);
  const within = [...query.matchAll(/\bname\s+in\s*\(([^)]*)\)/g)].flatMap((m) => [...m[1]!.matchAll(/"([^"]*)"/g)].map((s) => s[1]!));
  return [...equal, ...within];
}

/** The `customDimensions` keys a KQL query reads: `customDimensions.x` and `customDimensions["x"]`. */
function dimensionKeys(query: string): string[] {
  return [...query.matchAll(/\bcustomDimensions(?:\.(\w+)|\[["'](\w+)["']\])/g)].map((m) => (m[1] ?? m[2])!);
}

/** What is wrong with the attribute keys a query reads: each must be one the metrics it filters on carry. */
function attributeProblems(path: string, query: string): string[] {
  const names = customMetricNames(query);
  const carried = Object.entries(metricNames)
    .filter(([, name]) => names.includes(name))
    .flatMap(([metric]) => metricAttributes[metric as keyof typeof metricNames]) as string[];
  return dimensionKeys(query)
    .filter((key) => !carried.includes(key))
    .map((key) => `${path}: customDimensions.${key} is not an attribute of ${names.join(', ') || 'any metric it names'}`);
}

interface MetricCriterion {
  readonly path: string;
  readonly namespace: string;
  readonly metric: string;
  readonly aggregation: string;
  readonly operator: string;
  readonly threshold: number;
  readonly dimensions: { name: string; values: string[] }[];
}

function metricCriteria(all: readonly Declared[]): MetricCriterion[] {
  return ofType(all, 'Microsoft.Insights/metricAlerts').flatMap((d) =>
    ((props(d).criteria as JsonObject).allOf as JsonObject[]).map((c) => ({
      path: d.path,
      namespace: String(c.metricNamespace),
      metric: String(c.metricName),
      aggregation: String(c.timeAggregation),
      operator: String(c.operator),
      threshold: Number(c.threshold),
      dimensions: ((c.dimensions ?? []) as JsonObject[]).map((dim) => ({ name: String(dim.name), values: dim.values as string[] })),
    })),
  );
}

/** What is wrong with a metric criterion against the documented metrics; empty when it is right. */
function metricProblems(criterion: MetricCriterion): string[] {
  const type = platformMetrics[criterion.namespace];
  const metric = type?.metrics[criterion.metric];
  if (!metric) return [`${criterion.path}: ${criterion.namespace}/${criterion.metric} is not a documented metric in this test's list`];
  return [
    ...criterion.dimensions
      .filter((d) => !metric.dimensions.includes(d.name))
      .map((d) => `${criterion.path}: ${criterion.metric} has no dimension ${d.name} (${type.source})`),
    ...(metric.aggregations.includes(criterion.aggregation)
      ? []
      : [`${criterion.path}: ${criterion.metric} is not aggregated by ${criterion.aggregation}`]),
  ];
}

/** The expression a resource's `.id` compiles to: `[resourceId('<type>', <name>)]`. */
function idExpression(resource: JsonObject): string {
  const name = String(resource.name);
  const argument = name.startsWith('[') ? name.slice(1, -1) : `'${name}'`;
  return `[resourceId('${String(resource.type)}', ${argument})]`;
}

/** Problems with the action groups of every alert rule: each notifies the one action group its own template declares. */
function actionGroupProblems(all: readonly Declared[]): string[] {
  const rules = [...ofType(all, 'Microsoft.Insights/metricAlerts'), ...ofType(all, 'Microsoft.Insights/scheduledQueryRules')];
  return rules.flatMap((rule) => {
    const groups = ofType(all, 'Microsoft.Insights/actionGroups').filter((g) => g.template === rule.template);
    if (groups.length !== 1) return [`${rule.path}: its template declares ${groups.length} action groups`];
    const actions = props(rule).actions;
    const used = Array.isArray(actions)
      ? actions.map((a) => String((a as JsonObject).actionGroupId))
      : ((actions as JsonObject).actionGroups as string[]);
    const expected = idExpression(groups[0]!.resource);
    return used.length === 1 && used[0] === expected ? [] : [`${rule.path}: notifies ${JSON.stringify(used)}, not ${expected}`];
  });
}

/** What on-call must hear about, each recognised by what a rule measures rather than by its name. */
const required: Record<string, (metrics: MetricCriterion[], queries: string[]) => boolean> = {
  'HTTP 5xx rate': (_, q) => q.some((k) => /^requests\b/.test(k) && /toint\(resultCode\) >= 500/.test(k) && /\/ total/.test(k)),
  'p95 latency': (_, q) => q.some((k) => /^requests\b/.test(k) && /percentile\(duration, 95\)/.test(k)),
  'function failures': (_, q) => q.some((k) => /^requests\b/.test(k) && /success == false/.test(k)),
  'Cosmos DB 429': (m) =>
    m.some(
      (c) =>
        c.namespace === 'Microsoft.DocumentDB/databaseAccounts' &&
        c.metric === 'TotalRequests' &&
        c.dimensions.some((d) => d.name === 'StatusCode' && d.values.includes('429')),
    ),
  'Service Bus dead-lettered messages': (m) =>
    m.some((c) => c.metric === 'DeadletteredMessages' && c.operator === 'GreaterThan' && c.threshold === 0),
  'Key Vault access denied': (_, q) =>
    q.some((k) => /^AzureDiagnostics\b/.test(k) && /"MICROSOFT\.KEYVAULT"/.test(k) && /\bstatus == 403\b/.test(k)),
  refusals: (_, q) => q.some((k) => customMetricNames(k).includes(metricNames.refusals)),
  'refresh-token reuse': (_, q) => q.some((k) => customMetricNames(k).includes(metricNames.refreshReuse) && /> 0\b/.test(k)),
  lockouts: (_, q) => q.some((k) => customMetricNames(k).includes(metricNames.lockouts)),
};

let main: Declared[];
let global: Declared[];

beforeAll(() => {
  main = declared(compile('infra/main.bicep'));
  global = declared(compile('infra/global.bicep'));
}, 180_000);

describe('alert rules in the compiled templates', () => {
  it('query only metric names the app emits (shared/telemetry/metric-names.ts)', () => {
    const queries = logQueries(main);
    expect(queries.length).toBeGreaterThanOrEqual(6);
    const emitted: string[] = Object.values(metricNames);
    const used = queries.flatMap(({ path, query }) => customMetricNames(query).map((name) => ({ path, name })));
    expect(used.length).toBeGreaterThanOrEqual(3);
    expect(used.filter((u) => !emitted.includes(u.name)).map((u) => `${u.path}: ${u.name}`)).toEqual([]);
    // A customMetrics query without a name filter would add up every metric the app emits.
    for (const { path, query } of queries) if (/\bcustomMetrics\b/.test(query)) expect(customMetricNames(query), path).not.toEqual([]);
    // The refusal statuses a query compares with are the ones the app reports.
    for (const { query } of queries.filter((q) => customMetricNames(q.query).includes(metricNames.refusals)))
      for (const status of query.matchAll(/status == "(\d+)"/g)) expect(refusalStatuses).toContain(Number(status[1]));
  });

  it('reads the names a query uses, and would notice a renamed metric', () => {
    expect(customMetricNames('customMetrics | where name == "roger.lockouts" | summarize sum(valueSum)')).toEqual(['roger.lockouts']);
    expect(customMetricNames('customMetrics | where name in ("roger.a", "roger.b")')).toEqual(['roger.a', 'roger.b']);
    expect(customMetricNames('requests | where name == "GET /x"')).toEqual([]);
    const renamed = customMetricNames('customMetrics | where name == "roger.refresh_reuses"');
    expect(renamed.filter((n) => !(Object.values(metricNames) as string[]).includes(n))).toEqual(['roger.refresh_reuses']);
  });

  it('use platform metrics, dimensions and aggregations that Azure Monitor documents', () => {
    const criteria = [...metricCriteria(main), ...metricCriteria(global)];
    expect(criteria.length).toBeGreaterThanOrEqual(5);
    expect(criteria.flatMap(metricProblems)).toEqual([]);
    expect(
      metricProblems({ ...criteria[0]!, metric: 'Http5xxCount', path: 'x' }).concat(
        metricProblems({
          ...criteria[0]!,
          namespace: 'Microsoft.ServiceBus/namespaces',
          metric: 'DeadletteredMessages',
          aggregation: 'Maximum',
          path: 'y',
          dimensions: [{ name: 'StatusCode', values: [] }],
        }),
      ),
    ).toEqual([
      "x: Microsoft.DocumentDB/databaseAccounts/Http5xxCount is not a documented metric in this test's list",
      `y: DeadletteredMessages has no dimension StatusCode (${platformMetrics['Microsoft.ServiceBus/namespaces']!.source})`,
    ]);
  });

  it('cover what on-call needs to hear about in a region', () => {
    const metrics = metricCriteria(main);
    const queries = logQueries(main).map((q) => q.query);
    expect(
      Object.entries(required)
        .filter(([, covered]) => !covered(metrics, queries))
        .map(([what]) => what),
    ).toEqual([]);
  });

  it('each notify the action group of their own template, which mails ALERT_EMAIL', () => {
    for (const all of [main, global]) {
      expect(ofType(all, 'Microsoft.Insights/actionGroups').length).toBeGreaterThanOrEqual(1);
      expect(actionGroupProblems(all)).toEqual([]);
      for (const group of ofType(all, 'Microsoft.Insights/actionGroups'))
        expect((props(group).emailReceivers as JsonObject[]).map((r) => r.emailAddress)).toEqual(["[parameters('alertEmail')]"]);
    }
    for (const file of ['eu', 'us', 'global'])
      expect(readFileSync(`infra/${file}.bicepparam`, 'utf8')).toMatch(/^param alertEmail = readEnvironmentVariable\('ALERT_EMAIL'\)$/m);
  });

  it('log search alerts query Application Insights, or the workspace for Key Vault, with no identity whose roles a first deployment would wait for', () => {
    const rules = ofType(main, 'Microsoft.Insights/scheduledQueryRules');
    expect(rules.length).toBeGreaterThanOrEqual(7);
    for (const rule of rules) {
      const query = logQueries([rule])[0]!.query;
      expect(props(rule).scopes, rule.path).toEqual([
        /^AzureDiagnostics\b/.test(query)
          ? "[resourceId('Microsoft.OperationalInsights/workspaces', parameters('workspaceName'))]"
          : "[resourceId('Microsoft.Insights/components', parameters('insightsName'))]",
      ]);
      expect(rule.resource.identity, rule.path).toBeUndefined();
      expect(rule.resource.dependsOn ?? [], rule.path).not.toContainEqual(expect.stringContaining('roleAssignments'));
    }
    expect(
      ofType(main, 'Microsoft.Authorization/roleAssignments').filter((r) => rules.some((rule) => rule.template === r.template)),
    ).toEqual([]);
  });

  it("Key Vault's 403s: read from the audit log where its diagnostic setting sends it, leaving out the deployment's own", () => {
    const denied = logQueries(main).filter((q) => /"MICROSOFT\.KEYVAULT"/.test(q.query));
    expect(denied).toHaveLength(1);
    const { path, query } = denied[0]!;
    // No destination type on the setting: the AzureDiagnostics table, not the resource-specific AZKVAuditLogs.
    const setting = main.find(
      (d) => d.resource.type === 'Microsoft.Insights/diagnosticSettings' && /KeyVault/i.test(String(d.resource.scope)),
    );
    expect(setting, 'the Key Vault diagnostic setting').toBeDefined();
    expect(props(setting!).logAnalyticsDestinationType).toBeUndefined();
    expect(query).toMatch(/^AzureDiagnostics \| where ResourceProvider == "MICROSOFT\.KEYVAULT" and Category == "AuditEvent"/);
    expect(query).toContain(`_ResourceId =~ "<parameters('keyVaultResourceId')>"`);
    expect(query).toContain('toint(column_ifexists("httpStatusCode_d", real(null)))');
    expect(query).toContain('tostring(column_ifexists("identity_claim_oid_g", ""))');
    expect(query).toMatch(/\| where status == 403 and caller != "<deployer\(\)\.objectId>" \|/);
    const rule = ofType(main, 'Microsoft.Insights/scheduledQueryRules').find((r) => r.path === path)!;
    expect(props(rule).skipQueryValidation).toBe(true);
    expect(((props(rule).criteria as JsonObject).allOf as JsonObject[])[0]!.dimensions).toEqual([
      { name: 'caller', operator: 'Include', values: ['*'] },
    ]);
    expect(props(rule).severity).toBe(1);
  });

  it('read only the attribute keys the app gives the metrics they filter on', () => {
    const queries = logQueries(main);
    const read = queries.flatMap((q) => dimensionKeys(q.query));
    expect(read).toEqual(expect.arrayContaining([attributeKeys.status, attributeKeys.scope]));
    expect(queries.flatMap((q) => attributeProblems(q.path, q.query))).toEqual([]);
    // A renamed attribute, or one read from a metric that does not carry it, is noticed.
    expect(
      attributeProblems(
        'x',
        'customMetrics | where name == "roger.refusals" | summarize by s = tostring(customDimensions.statusCode)',
      ).concat(attributeProblems('y', 'customMetrics | where name == "roger.refusals" | summarize by tostring(customDimensions["scope"])')),
    ).toEqual([
      'x: customDimensions.statusCode is not an attribute of roger.refusals',
      'y: customDimensions.scope is not an attribute of roger.refusals',
    ]);
  });
});

describe('the metrics the alerts read, as the app exports them', () => {
  const recorder = recordTelemetry();
  afterAll(() => recorder.shutdown());

  it('each carry exactly the attribute keys metric-names.ts lists for it', async () => {
    const emit: Record<keyof typeof metricNames, (t: Telemetry) => void> = {
      signIns: (t) => t.signIn('pin', 'failure'),
      lockouts: (t) => t.lockout('address'),
      refreshReuse: (t) => t.refreshReuse(),
      releases: (t) => t.release(),
      messagesSent: (t) => t.messagesSent(2),
      refusals: (t) => t.refusal(503),
    };
    for (const call of Object.values(emit)) call(recorder.telemetry);
    const exported = await recorder.exported();
    for (const [metric, name] of Object.entries(metricNames)) {
      const points = exported.metrics.find((m) => m.name === name)?.points ?? [];
      expect(points.length, name).toBeGreaterThan(0);
      for (const point of points)
        expect(Object.keys(point.attributes).sort(), name).toEqual([...metricAttributes[metric as keyof typeof metricNames]].sort());
    }
  });
});

describe('global alert rules', () => {
  it("describe Front Door's health probe as the profile sends it", () => {
    const groups = ofType(global, 'Microsoft.Cdn/profiles/originGroups').map((g) => props(g).healthProbeSettings as JsonObject | undefined);
    const probe = groups.find((p) => p !== undefined && p !== null);
    expect(probe).toBeDefined();
    const unhealthy = ofType(global, 'Microsoft.Insights/metricAlerts').find((r) =>
      metricCriteria([r]).some((c) => c.metric === 'OriginHealthPercentage'),
    )!;
    expect(String(props(unhealthy).description)).toContain(`(${String(probe!.probeRequestType)} ${String(probe!.probePath)})`);
  });
});

describe('Microsoft Defender for Cloud plans', () => {
  const plans = ['defenderCosmosDb', 'defenderKeyVault', 'defenderAppService', 'defenderStorage', 'defenderResourceManager'];

  it('are off by default, set at subscription scope, and deployed only when one is on', () => {
    const module = main.find(
      (d) =>
        d.resource.type === 'Microsoft.Resources/deployments' &&
        ofType(main, 'Microsoft.Security/pricings').some((p) => p.path.startsWith(`${d.path}/`)),
    );
    expect(module).toBeDefined();
    expect(module!.resource.subscriptionId).toBe('[subscription().subscriptionId]');
    expect(module!.resource.resourceGroup).toBeUndefined();
    for (const plan of plans) expect(String(module!.resource.condition)).toContain(`parameters('${plan}')`);
    expect(String(module!.resource.condition)).toContain("'Standard'");
    const parameters = (module!.template as Template).parameters!;
    for (const plan of plans) {
      expect(parameters[plan]!.defaultValue, plan).toBe('Free');
      expect(String((parameters[plan]!.metadata as JsonObject).description), plan).toMatch(/billed per/);
    }
    expect(
      ofType(main, 'Microsoft.Security/pricings')
        .map((p) => p.resource.name)
        .sort(),
    ).toEqual(['AppServices', 'Arm', 'CosmosDbs', 'KeyVaults', 'StorageAccounts']);
  });
});
