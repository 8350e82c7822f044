// The regional API: a Function App on the Flex Consumption plan (Linux, Node 22), its runtime
// storage reached with the managed identity (shared keys off), HTTPS only with TLS 1.2.
//
// Flex Consumption has no FTP(S) endpoint, and `siteConfig.ftpsState` is not a Flex setting;
// basic-auth publishing on the SCM site is turned off, so deployments authenticate with Entra ID.

import { roleIds } from '../roles.bicep'

@minLength(2)
@maxLength(60)
param name string
param planName string
@minLength(3)
@maxLength(24)
param storageAccountName string
param location string
param identityResourceId string
param identityClientId string
param identityPrincipalId string
@description('The app settings loadConfig reads (main.bicep); the host settings below are added.')
param appSettings object
param applicationInsightsConnectionString string
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int
@allowed([512, 2048, 4096])
param instanceMemoryMB int
@description('Runtime storage zone-redundant (Standard_ZRS) rather than locally redundant; ZRS regardless when the plan is zone-redundant.')
param storageZoneRedundant bool
@description('Flex Consumption plan zone-redundant: at least two always-ready instances, billed continuously.')
param planZoneRedundant bool
@description('When set, the app admits only requests from this Front Door profile (its X-Azure-FDID); empty: reached directly.')
param frontDoorId string
@description('Log Analytics workspace that receives the logs and metrics of the app and its storage.')
param workspaceResourceId string
param tags object

var deploymentContainerName = 'app-package'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  // A zone-redundant Flex plan needs zone-redundant runtime storage. LRS → ZRS on an existing
  // account is a conversion Azure runs on request (infra/README.md#zone-redundancy), not an update.
  sku: {
    name: storageZoneRedundant || planZoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'
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

  resource blobServices 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

resource storageBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, roleIds.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
    zoneRedundant: planZoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityResourceId
    // The access restrictions are always sent, open or closed: App Service keeps a siteConfig
    // value that a deployment leaves out, so a restriction dropped from the template would stay.
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      // Routed through Front Door (a custom domain): only its backend addresses, and among them
      // only our profile's requests (every profile shares those addresses). Otherwise open.
      ipSecurityRestrictionsDefaultAction: empty(frontDoorId) ? 'Allow' : 'Deny'
      ipSecurityRestrictions: empty(frontDoorId)
        ? []
        : [
            {
              name: 'front-door'
              description: 'Only our Front Door profile'
              action: 'Allow'
              priority: 100
              tag: 'ServiceTag'
              ipAddress: 'AzureFrontDoor.Backend'
              headers: {
                'x-azure-fdid': [frontDoorId]
              }
            }
          ]
      // The SCM site keeps its own rules (none set here): deployments reach it with Entra ID, basic auth off.
      scmIpSecurityRestrictionsUseMain: false
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
  // The host reads its storage and the deployment container from its first start.
  dependsOn: [
    storage::blobServices::deploymentContainer
    storageBlobOwner
  ]
}

// Read by the Functions host, not by the app (so not in loadConfig): runtime storage through
// the identity, and telemetry through Entra ID.
var hostSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// The complete set: settings not listed here are removed, so Azure holds exactly what is reviewed.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(hostSettings, appSettings)
}

resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// The host's own log (FunctionAppLogs: start-up, Key Vault reference and invocation failures, even
// when telemetry to Application Insights is not working) and the platform metrics.
resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
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

// The account's capacity and transaction metrics; its logs are per service (below).
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

// Reads, writes and deletes of blobs (the deployment package, host leases and keys), each with the
// identity that made it: a package replaced outside the pipeline shows here.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::blobServices
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
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

output name string = site.name
output resourceId string = site.id
output defaultHostName string = site.properties.defaultHostName
