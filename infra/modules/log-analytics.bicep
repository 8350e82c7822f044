// A Log Analytics workspace: where Application Insights (in a region) and the diagnostic settings
// of every resource send their logs and metrics. Ingestion and queries with Entra ID only.

@minLength(4)
@maxLength(63)
param name string
param location string
@minValue(30)
@maxValue(730)
param retentionDays int
param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionDays
    features: {
      // Readers need rights on the workspace, not just on a resource whose logs it holds.
      enableLogAccessUsingOnlyResourcePermissions: false
      // Ingestion and queries with Entra ID only: the workspace's shared keys do not work.
      disableLocalAuth: true
    }
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

// Who read the logs (LAQueryLogs: the query, who ran it, when), kept in the workspace itself:
// reading telemetry is as auditable as writing it.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: workspace
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output resourceId string = workspace.id
