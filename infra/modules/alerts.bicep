// A region's alert rules and the action group they notify (docs/operations.md#what-to-watch).
//
// - Metric alerts on platform metrics (Cosmos DB, Service Bus): evaluated by Azure Monitor every
//   minute or five, free of query cost.
// - Log search alerts on the region's Application Insights: the app's requests, and the metrics
//   the app itself emits (shared/telemetry/metric-names.ts), which OpenTelemetry exports to the
//   `customMetrics` table as pre-aggregated rows (a counter's increments over an export interval
//   in `valueSum`, its attributes in `customDimensions`). tests/infra/alerts.test.ts checks every
//   metric name and attribute key a query uses against those lists.
// - One log search alert on the workspace: Key Vault's audit log, to name who was refused.
//
// The log search alerts have no identity of their own: a rule without one queries with the rights
// Azure Monitor has on its scope, as rules always have. An identity would need reader roles that a
// first deployment creates in the same run, and a rule checks its query when it is saved, before
// those roles have propagated.
//
// Each log query returns a row only when its condition holds, so every rule fires on "more than
// zero rows": the threshold is read in the query, next to what it measures.

@description('Start of every rule name: `<prefix>-<region>`.')
param prefix string
param location string
@description('Where the action group sends notifications.')
@minLength(3)
param alertEmail string
param insightsName string
param workspaceName string
param cosmosAccountResourceId string
param serviceBusNamespaceResourceId string
param keyVaultResourceId string
param tags object

var metricTargets = {
  cosmos: cosmosAccountResourceId
  serviceBus: serviceBusNamespaceResourceId
}

// Metric names and dimensions: Azure Monitor's supported-metrics reference of each resource type
// (listed with their pages in tests/infra/alerts.test.ts).
var metricAlerts = [
  {
    name: 'cosmos-throttled'
    description: 'Cosmos DB answered more than 10 requests with 429 (request rate too large) in 5 minutes: the SDK retries them, but a serverless container is at its throughput ceiling and requests slow down or fail.'
    severity: 2
    target: 'cosmos'
    namespace: 'Microsoft.DocumentDB/databaseAccounts'
    metric: 'TotalRequests'
    dimensions: [
      {
        name: 'StatusCode'
        operator: 'Include'
        values: ['429']
      }
    ]
    aggregation: 'Count'
    operator: 'GreaterThan'
    threshold: 10
    frequency: 'PT1M'
    window: 'PT5M'
  }
  {
    name: 'service-bus-dead-lettered'
    description: 'A release topic holds dead-lettered messages: a printer\'s subscription could not deliver a release (expired or rejected too often).'
    severity: 2
    target: 'serviceBus'
    namespace: 'Microsoft.ServiceBus/namespaces'
    metric: 'DeadletteredMessages'
    dimensions: [
      {
        name: 'EntityName'
        operator: 'Include'
        values: ['*']
      }
    ]
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: 0
    frequency: 'PT5M'
    window: 'PT5M'
  }
]

// Application Insights tables in its own (classic) schema: requests, customMetrics. Counts use
// itemCount so that sampled telemetry still adds up.
var logAlerts = [
  {
    name: 'http-5xx-rate'
    title: 'More than 1% of requests failed with 5xx'
    description: 'More than 1% of at least 20 requests in 15 minutes were answered with a 5xx status: look for unhandled-error lines and the failing route.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'requests | summarize total = sum(itemCount), failed = sumif(itemCount, toint(resultCode) >= 500) | where total >= 20 and failed * 100.0 / total > 1'
  }
  {
    name: 'latency-p95'
    title: '95th percentile of request duration above 3 s'
    description: 'The slowest 5% of at least 20 requests in 15 minutes took longer than 3 seconds: Cosmos DB throttling, a slow dependency (Graph, Service Bus) or cold starts.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'requests | summarize total = sum(itemCount), p95 = percentile(duration, 95) | where total >= 20 and p95 > 3000'
  }
  {
    name: 'function-failures'
    title: 'Function invocations failing'
    description: 'A function failed at least 5 times in 15 minutes (threw, timed out or answered 5xx; 4xx answers are the client\'s and do not count).'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'requests | where success == false and not(resultCode startswith "4") | summarize failures = sum(itemCount) by operation_Name | where failures >= 5'
  }
  {
    name: 'refusals'
    title: 'Requests refused with 429 or 503'
    description: 'In 15 minutes, more than 5 requests were answered 503 (a dependency unavailable, or OneDrive not configured) or more than 100 were answered 429 (rate limits): see docs/security.md#rate-limits for who is limited.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'customMetrics | where name == "roger.refusals" | summarize refusals = sum(valueSum) by status = tostring(customDimensions.status) | where (status == "503" and refusals > 5) or (status == "429" and refusals > 100)'
  }
  {
    name: 'refresh-reuse'
    title: 'A rotated refresh token was used again'
    description: 'A refresh token that had already been rotated was presented again and its family revoked: a stolen token, or a client that lost a response. Which user or printer is in the refresh-token-reuse log line.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'customMetrics | where name == "roger.refresh_reuse" | summarize reused = sum(valueSum) | where reused > 0'
  }
  {
    name: 'lockouts-spike'
    title: 'Many lockouts in one hour'
    description: 'More than 20 locks of one kind (account, printer or client address) began in an hour: password guessing at scale (docs/security.md#lockout).'
    severity: 2
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'customMetrics | where name == "roger.lockouts" | summarize lockouts = sum(valueSum) by scope = tostring(customDimensions.scope) | where lockouts > 20'
  }
]

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${prefix}-alerts'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take(prefix, 12)
    enabled: true
    emailReceivers: [
      {
        name: 'on-call'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource metricAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = [
  for alert in metricAlerts: {
    name: '${prefix}-${alert.name}'
    location: 'global'
    tags: tags
    properties: {
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [metricTargets[alert.target]]
      evaluationFrequency: alert.frequency
      windowSize: alert.window
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            criterionType: 'StaticThresholdCriterion'
            name: alert.metric
            metricNamespace: alert.namespace
            metricName: alert.metric
            dimensions: alert.dimensions
            timeAggregation: alert.aggregation
            operator: alert.operator
            threshold: alert.threshold
          }
        ]
      }
      autoMitigate: true
      actions: [
        {
          actionGroupId: actionGroup.id
        }
      ]
    }
  }
]

resource logAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in logAlerts: {
    name: '${prefix}-${alert.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: '${prefix}: ${alert.title}'
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [insights.id]
      evaluationFrequency: alert.frequency
      windowSize: alert.window
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [actionGroup.id]
      }
    }
  }
]

// Key Vault's audit log (the `AuditEvent` category, sent by modules/key-vault.bicep's diagnostic
// setting) lands in the workspace's AzureDiagnostics table, since that setting names no
// destination type: 403 in `httpStatusCode_d`, the caller's object id in `identity_claim_oid_g`.
// The deployer's own 403s are left out: each deployment lists the vault's secrets while its role
// on a new or recovered vault propagates (the pipeline's secrets step retries for up to 5 minutes),
// and every try is one. Those columns appear with the first audit event that has them, so the
// query reads them with column_ifexists and the rule skips the check of its query when saved,
// which a new workspace could fail.
var deployerObjectId = deployer().objectId
var keyVaultDeniedQuery = 'AzureDiagnostics | where ResourceProvider == "MICROSOFT.KEYVAULT" and Category == "AuditEvent" and _ResourceId =~ "${keyVaultResourceId}" | extend status = toint(column_ifexists("httpStatusCode_d", real(null))), caller = tostring(column_ifexists("identity_claim_oid_g", "")) | where status == 403 and caller != "${deployerObjectId}" | summarize denied = count() by caller | where denied > 0'

resource keyVaultDenied 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${prefix}-key-vault-access-denied'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${prefix}: Key Vault refused a caller'
    description: 'Key Vault answered 403 to someone other than the deployment in the last 15 minutes: the app identity lost its role, or someone without one tried to read the vault. The alert names the caller\'s object id; AzureDiagnostics (category AuditEvent) says which secret.'
    severity: 1
    enabled: true
    scopes: [workspace.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: keyVaultDeniedQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'caller'
              operator: 'Include'
              values: ['*']
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}
