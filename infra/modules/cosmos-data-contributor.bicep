// Lets one identity read and write the items of one database (not the account's other
// databases, not its settings). Also deployed into the global resource group by each region,
// for the tenant directory.

import { roleIds } from '../roles.bicep'

param accountName string
param databaseName string
param principalId string

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: accountName
}

resource assignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, databaseName, principalId, roleIds.cosmosDataContributor)
  properties: {
    principalId: principalId
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${roleIds.cosmosDataContributor}'
    scope: '${account.id}/dbs/${databaseName}'
  }
}
