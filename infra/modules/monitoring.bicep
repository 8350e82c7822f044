// Logs and telemetry of one region: a Log Analytics workspace and a workspace-based Application
// Insights that accepts telemetry from Entra ID identities only (no instrumentation-key ingestion).
//
// Application Insights has no diagnostic setting: its telemetry already lands in the workspace
// (IngestionMode LogAnalytics), and a setting would store every item a second time.

import { roleIds } from '../roles.bicep'

param workspaceName string
param insightsName string
param location string
@description('The app identity, which publishes telemetry.')
param publisherPrincipalId string
@minValue(30)
@maxValue(730)
param logRetentionDays int
param tags object

module workspace 'log-analytics.bicep' = {
  name: 'log-analytics'
  params: {
    name: workspaceName
    location: location
    retentionDays: logRetentionDays
    tags: tags
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: insightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.outputs.resourceId
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
    // Keep client IP addresses out of telemetry (no personal data in logs: docs/security.md#logs-errors-and-telemetry).
    DisableIpMasking: false
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, publisherPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: publisherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output connectionString string = insights.properties.ConnectionString
output workspaceResourceId string = workspace.outputs.resourceId
output workspaceName string = workspaceName
output insightsName string = insights.name
output insightsResourceId string = insights.id
