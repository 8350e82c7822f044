// The region's Service Bus namespace (docs/flows.md#release-to-printers): the release topics with duplicate detection,
// the Listen-only rule whose key signs printers' SAS tokens (written to Key Vault here, so it
// never leaves Azure), and the app's rights on the topics.
//
// Local (SAS) authentication stays on: it is how printers connect. The app itself sends and
// manages subscriptions with its managed identity and holds no Send or Manage key.

import { roleIds } from '../roles.bicep'

@minLength(6)
@maxLength(50)
param name string
param location string
@description('Topics from app-contract.json: { name, duplicateDetectionHistoryTimeWindow }.')
param topics array
param listenRuleName string
@description('The app identity: sends releases and creates/deletes printer subscriptions on the topics.')
param appPrincipalId string
param keyVaultName string
param listenKeySecretName string
@description('Which key of the Listen rule signs printer tokens; switching it is the key rotation (infra/README.md).')
@allowed(['primary', 'secondary'])
param printerListenKey string
@description('Log Analytics workspace that receives the namespace\'s logs and metrics.')
param workspaceResourceId string
param tags object

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    disableLocalAuth: false
  }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = [
  for spec in topics: {
    parent: namespace
    name: spec.name
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: spec.duplicateDetectionHistoryTimeWindow
      // Messages carry their own, shorter TTL (the download URL's lifetime); this is a ceiling.
      defaultMessageTimeToLive: 'PT1H'
      enableBatchedOperations: true
    }
  }
]

resource listenRule 'Microsoft.ServiceBus/namespaces/authorizationRules@2024-01-01' = {
  parent: namespace
  name: listenRuleName
  properties: {
    rights: ['Listen']
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource listenKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: listenKeySecretName
  properties: {
    value: printerListenKey == 'primary' ? listenRule.listKeys().primaryKey : listenRule.listKeys().secondaryKey
    contentType: 'Service Bus SAS key of rule ${listenRuleName} (${printerListenKey})'
  }
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(topics)): {
    name: guid(topic[i].id, appPrincipalId, roleIds.serviceBusDataSender)
    scope: topic[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The administration client creates a subscription per printer at enrollment and deletes it at
// disconnection; Service Bus grants that with Data Owner only. Scoped to the topic, it reaches
// no other entity of the namespace.
resource subscriptionManager 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(topics)): {
    name: guid(topic[i].id, appPrincipalId, roleIds.serviceBusDataOwner)
    scope: topic[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataOwner)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Operational logs (entity changes), network-rule and application-metric logs, and the metrics.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
  properties: {
    workspaceId: workspaceResourceId
    logs: [
      {
        categoryGroup: 'allLogs'
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

output name string = namespace.name
output resourceId string = namespace.id
@description('Fully qualified namespace, as SERVICEBUS_NAMESPACE expects it: the host of the namespace\'s own endpoint (https://<host>:443/), which national clouds name differently.')
output hostName string = split(split(namespace.properties.serviceBusEndpoint, '://')[1], ':')[0]
