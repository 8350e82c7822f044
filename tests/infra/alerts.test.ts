import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { metricNames, refusalStatuses } from '../../shared/telemetry/metric-names.js';

/**
 * The alert rules in the compiled templates (docs/operations.md#what-to-watch) against what they
 * watch: every app metric a log query names is one the app emits (shared/telemetry/metric-names.ts),
 * every platform metric and dimension is one Azure Monitor documents for that resource type, every
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
  'Microsoft.KeyVault/vaults': {
    source: 'https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-keyvault-vaults-metrics',
    metrics: {
      ServiceApiResult: { dimensions: ['ActivityType', 'ActivityName', 'StatusCode', 'StatusCodeClass'], aggregations: ['Count'] },
    },
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

function logQueries(all: readonly Declared[]): { path: string; query: string }[] {
  return ofType(all, 'Microsoft.Insights/scheduledQueryRules').flatMap((d) =>
    ((props(d).criteria as JsonObject).allOf as JsonObject[]).map((c) => ({ path: d.path, query: String(c.query) })),
  );
}

/** The app metric names a KQL query filters `customMetrics` on: `name == "x"` and `name in ("x", "y")`. */
function customMetricNames(query: string): string[] {
  if (!/\bcustomMetrics\b/.test(query)) return [];
  const equal = [...query.matchAll(/\bname\s*==\s*"([^"]*)"/g)].map((m) => m[1]!);
  const within = [...query.matchAll(/\bname\s+in\s*\(([^)]*)\)/g)].flatMap((m) => [...m[1]!.matchAll(/"([^"]*)"/g)].map((s) => s[1]!));
  return [...equal, ...within];
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
  'Key Vault access denied': (m) =>
    m.some((c) => c.metric === 'ServiceApiResult' && c.dimensions.some((d) => d.name === 'StatusCode' && d.values.includes('403'))),
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
          namespace: 'Microsoft.KeyVault/vaults',
          metric: 'ServiceApiResult',
          path: 'y',
          dimensions: [{ name: 'Status', values: [] }],
        }),
      ),
    ).toEqual([
      "x: Microsoft.DocumentDB/databaseAccounts/Http5xxCount is not a documented metric in this test's list",
      `y: ServiceApiResult has no dimension Status (${platformMetrics['Microsoft.KeyVault/vaults']!.source})`,
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

  it('log search alerts query Application Insights with an identity that may read it', () => {
    const rules = ofType(main, 'Microsoft.Insights/scheduledQueryRules');
    for (const rule of rules) {
      expect(props(rule).scopes, rule.path).toEqual(["[resourceId('Microsoft.Insights/components', parameters('insightsName'))]"]);
      expect(Object.keys((rule.resource.identity as JsonObject).userAssignedIdentities as JsonObject), rule.path).toHaveLength(1);
    }
    const readers = ofType(main, 'Microsoft.Authorization/roleAssignments').filter((r) =>
      rules.some((rule) => rule.template === r.template),
    );
    expect(readers.map((r) => String(r.resource.scope)).sort()).toEqual([
      "[resourceId('Microsoft.Insights/components', parameters('insightsName'))]",
      "[resourceId('Microsoft.OperationalInsights/workspaces', parameters('workspaceName'))]",
    ]);
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
