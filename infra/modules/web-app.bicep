// The web app's files (web/dist, docs/web-app.md), one storage account per region: a static website
// whose `$web` container holds the build under `app/`. Front Door serves it at /app/* of the
// region's own host name, next to the API (web-route.bicep); the pipeline uploads the build after
// the Function App, so a region's web app changes together with its API (infra/README.md#the-web-app).
//
// Static website serving is switched on here, on the blob service (Microsoft.Storage 2025-08-01):
// no data-plane call and no account key. The pipeline uploads with Entra ID (Storage Blob Data
// Contributor, below); shared-key access stays off, and so does anonymous blob access: the static
// website endpoint serves `$web` by itself, whatever allowBlobPublicAccess says.

import { roleIds } from '../roles.bicep'

@maxLength(24)
param name string
param location string
@description('Standard_ZRS rather than Standard_LRS, like the runtime storage (infra/README.md#zone-redundancy).')
param zoneRedundant bool
@description('Log Analytics workspace that receives who changed the site (writes and deletes) and the transaction metrics.')
param workspaceResourceId string
param tags object

resource storage 'Microsoft.Storage/storageAccounts@2025-08-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: zoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }

  // No 404 document: a missing file (a stale hashed asset) stays a plain 404, never the page.
  // Screens (/app/<screen>) are rewritten to /app/index.html by Front Door, not by the site.
  resource blobServices 'blobServices' = {
    name: 'default'
    properties: {
      staticWebsite: {
        enabled: true
        indexDocument: 'index.html'
      }
    }
  }
}

// The deployment's identity (the pipeline) uploads the build with Entra ID (`--auth-mode login`).
resource uploader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, deployer().objectId, roleIds.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: deployer().objectId
  }
}

resource storageDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: workspaceResourceId
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

// Writes and deletes only, each with the identity that made it: a file replaced outside the
// pipeline shows here. Reads are every page load that misses Front Door's cache: volume, no news.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::blobServices
  properties: {
    workspaceId: workspaceResourceId
    logs: [
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

output name string = storage.name
@description('The static website\'s host name (`<account>.z<n>.web.<storage suffix>`): Front Door\'s origin for /app/*. Azure picks the zone part, so it is read, not built.')
output webHostName string = split(storage.properties.primaryEndpoints.web, '/')[2]
