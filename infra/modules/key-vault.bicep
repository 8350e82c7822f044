// The region's Key Vault: the app's secrets, read through Key Vault references in app settings.
// RBAC mode (no access policies), soft delete and purge protection: a deleted secret or vault
// can be recovered for 90 days and cannot be purged early. Not usable by VM deployments, ARM
// template deployments or disk encryption: nothing but RBAC-granted identities reads it.

import { roleIds } from '../roles.bicep'

@maxLength(24)
param name string
param location string
@description('The app identity: reads secrets (Key Vault Secrets User).')
param readerPrincipalId string
@description('`recover` when the vault of this name is soft-deleted (a re-created resource group): purge protection keeps the name taken for 90 days, and `default` would fail.')
@allowed(['default', 'recover'])
param createMode string
@description('Log Analytics workspace that receives the vault\'s audit log (AuditEvent) and metrics.')
param workspaceResourceId string
param tags object

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    createMode: createMode
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForTemplateDeployment: false
    enabledForDiskEncryption: false
    // App Service resolves Key Vault references over the public endpoint: Flex Consumption
    // without a virtual network is not a trusted service that a firewall could let through.
    publicNetworkAccess: 'Enabled'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, readerPrincipalId, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Whoever runs the deployment (the pipeline's identity) writes the generated secrets.
resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, deployer().objectId, roleIds.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: deployer().objectId
  }
}

// AuditEvent: every secret read and every refused request (who, from where, which secret name;
// never a value), which the access-denied alert and an investigation need.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
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

output name string = vault.name
output resourceId string = vault.id
