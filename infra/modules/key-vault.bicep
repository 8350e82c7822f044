// The region's Key Vault: the app's secrets, read through Key Vault references in app settings.
// RBAC mode (no access policies), soft delete and purge protection: a deleted secret or vault
// can be recovered for 90 days and cannot be purged early.

import { roleIds } from '../roles.bicep'

@maxLength(24)
param name string
param location string
@description('The app identity: reads secrets (Key Vault Secrets User).')
param secretsUserPrincipalId string
param tags object

module vault 'br/public:avm/res/key-vault/vault:0.13.3' = {
  name: 'vault'
  params: {
    name: name
    location: location
    sku: 'standard'
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enableVaultForDeployment: false
    enableVaultForTemplateDeployment: false
    enableVaultForDiskEncryption: false
    publicNetworkAccess: 'Enabled'
    roleAssignments: [
      {
        principalId: secretsUserPrincipalId
        principalType: 'ServicePrincipal'
        roleDefinitionIdOrName: roleIds.keyVaultSecretsUser
      }
      {
        // Whoever runs the deployment (the pipeline's identity) creates the generated secrets.
        principalId: deployer().objectId
        roleDefinitionIdOrName: roleIds.keyVaultSecretsOfficer
      }
    ]
    tags: tags
    enableTelemetry: false
  }
}

output name string = vault.outputs.name
