// Alert rules on what all regions share, and the action group they notify
// (docs/operations.md#what-to-watch): discovery through Front Door, and the tenant directory.
// Platform metrics only; metric names and dimensions are from Azure Monitor's supported-metrics
// reference (listed with their pages in tests/infra/alerts.test.ts).

@description('Start of every rule name: `<prefix>-global`.')
param prefix string
@description('Where the action group sends notifications.')
@minLength(3)
param alertEmail string
param directoryAccountResourceId string
param frontDoorProfileResourceId string
param tags object

var metricTargets = {
  directory: directoryAccountResourceId
  frontDoor: frontDoorProfileResourceId
}

var metricAlerts = [
  {
    name: 'discovery-5xx'
    description: 'More than 5% of discovery requests through Front Door failed with 5xx over 15 minutes: every region\'s /regions or /tenants answer is failing, or Front Door cannot reach them.'
    severity: 1
    target: 'frontDoor'
    namespace: 'Microsoft.Cdn/profiles'
    metric: 'Percentage5XX'
    dimensions: []
    aggregation: 'Average'
    operator: 'GreaterThan'
    threshold: 5
    frequency: 'PT5M'
    window: 'PT15M'
  }
  {
    name: 'origin-unhealthy'
    description: 'Front Door\'s health probes (HEAD /regions) failed for a region over 15 minutes: discovery sends everyone to the other regions, and that region\'s own API is probably down too.'
    severity: 1
    target: 'frontDoor'
    namespace: 'Microsoft.Cdn/profiles'
    metric: 'OriginHealthPercentage'
    dimensions: [
      {
        name: 'Origin'
        operator: 'Include'
        values: ['*']
      }
    ]
    aggregation: 'Average'
    operator: 'LessThan'
    threshold: 75
    frequency: 'PT5M'
    window: 'PT15M'
  }
  {
    name: 'directory-throttled'
    description: 'The tenant directory account answered more than 10 requests with 429 in 5 minutes: discovery and tenant creation slow down or fail.'
    severity: 2
    target: 'directory'
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
]

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
