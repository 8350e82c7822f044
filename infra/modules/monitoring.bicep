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

module workspace 'br/public:avm/res/operational-insights/workspace:0.15.0' = {
  name: 'workspace'
  params: {
    name: workspaceName
    location: location
    skuName: 'PerGB2018'
    dataRetention: logRetentionDays
    tags: tags
    enableTelemetry: false
  }
}

module insights 'br/public:avm/res/insights/component:0.7.1' = {
  name: 'insights'
  params: {
    name: insightsName
    location: location
    kind: 'web'
    applicationType: 'web'
    workspaceResourceId: workspace.outputs.resourceId
    disableLocalAuth: true
    // Keep client IP addresses out of telemetry (no personal data in logs: docs/security.md#logs-errors-and-telemetry).
    disableIpMasking: false
    roleAssignments: [
      {
        principalId: publisherPrincipalId
        principalType: 'ServicePrincipal'
        roleDefinitionIdOrName: roleIds.monitoringMetricsPublisher
      }
    ]
    tags: tags
    enableTelemetry: false
  }
}

output connectionString string = insights.outputs.connectionString
