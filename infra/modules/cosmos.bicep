// A Cosmos DB for NoSQL account (serverless, one region), its database and the containers
// listed in app-contract.json. Keys are disabled: the app reaches it with its managed identity.
// Continuous backup (point-in-time restore, docs/operations.md) and, where the region has
// availability zones, zone redundancy: serverless accounts support both.

@minLength(3)
@maxLength(44)
param name string
param location string
param databaseName string
@description('Containers from app-contract.json: { id, partitionKeyPath, defaultTtl?, indexingPolicy? }.')
param containers array
@description('Point-in-time restore window: Continuous7Days (no charge for the backup storage) or Continuous30Days (charged per GB).')
@allowed(['Continuous7Days', 'Continuous30Days'])
param backupTier string
@description('Replicas spread over the region\'s availability zones. Fixed when the account is created: Azure refuses to change it on an existing account.')
param zoneRedundant bool
@description('Identities that read and write items in this database (Cosmos DB Built-in Data Contributor).')
param dataContributorPrincipalIds array = []
@description('Log Analytics workspace that receives the account\'s logs and request metrics.')
param workspaceResourceId string
param tags object

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  kind: 'GlobalDocumentDB'
  tags: tags
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: zoneRedundant
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    // Periodic → continuous is a one-way migration Azure does in place; the tier can change either way.
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: backupTier
      }
    }
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

// Serverless: no throughput options. defaultTtl -1 = items carry their own ttl; absent = no expiry.
// indexingPolicy: only the paths the app's queries use (shared/store/containers.ts, docs/data.md#indexing).
resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for spec in containers: {
    parent: database
    name: spec.id
    properties: {
      resource: union(
        {
          id: spec.id
          partitionKey: {
            paths: [spec.partitionKeyPath]
            kind: 'Hash'
            version: 2
          }
        },
        contains(spec, 'defaultTtl') ? { defaultTtl: spec.defaultTtl } : {},
        contains(spec, 'indexingPolicy') ? { indexingPolicy: spec.indexingPolicy } : {}
      )
    }
  }
]

module dataContributor 'cosmos-data-contributor.bicep' = [
  for (principalId, i) in dataContributorPrincipalIds: {
    name: 'cosmos-data-contributor-${i}'
    params: {
      accountName: account.name
      databaseName: database.name
      principalId: principalId
    }
  }
]

// Every log category (data-plane and control-plane requests, query statistics, RU per partition
// key) and the request metrics, in Cosmos DB's own tables (CDBDataPlaneRequests, …) rather than
// the shared AzureDiagnostics table.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: workspaceResourceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Requests'
        enabled: true
      }
    ]
  }
}

output name string = account.name
output resourceId string = account.id
output endpoint string = account.properties.documentEndpoint
