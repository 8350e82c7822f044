// Logs and telemetry of one region: a Log Analytics workspace and a workspace-based Application
// Insights that accepts telemetry from Entra ID identities only (no instrumentation-key ingestion).

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

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
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

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: insightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
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
output workspaceResourceId string = workspace.id
output insightsResourceId string = insights.id
