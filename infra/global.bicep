// What all regions share (docs/architecture.md#topology), deployed once, before the regions, into its own resource group:
//   az deployment group create -g <prefix>-global --parameters infra/global.bicepparam
// - the tenant directory: a small Cosmos DB account (slug → home region, nothing personal),
//   which each region's deployment then opens to its own app identity;
// - the global entry point for discovery: Azure Front Door in front of every regional app.

import { apiUrl, appHostName, directoryCosmosName, frontDoorEndpointName, frontDoorName } from 'naming.bicep'

@description('The same prefix as the regional deployments.')
@minLength(2)
@maxLength(12)
param namePrefix string

@description('Azure location of the tenant directory account.')
param directoryLocation string

@description('Parent domain for custom host names, e.g. `roger.example.com`: discovery.<domain> and <region>.<domain> on Front Door with managed certificates (infra/README.md#custom-domains). The same value as the regional deployments. Empty: none.')
param customDomain string = ''

@description('Name of the tenant directory\'s Cosmos DB account. Set it in global.bicepparam (and as `directoryAccountName` in every region\'s) only after a point-in-time restore, to keep the apps on the restored copy (docs/operations.md#backup-and-restore); otherwise the name derived from the prefix.')
@minLength(3)
@maxLength(44)
param directoryAccountName string = directoryCosmosName(namePrefix)

@description('Point-in-time restore window of the directory account (docs/operations.md): 7 days at no backup-storage charge, or 30 days.')
@allowed(['Continuous7Days', 'Continuous30Days'])
param cosmosBackupTier string = 'Continuous7Days'

@description('Directory account replicas across availability zones. Azure fixes it when the account is created: an account created without it, and every copy a point-in-time restore makes, keeps false (infra/README.md#zone-redundancy).')
param cosmosZoneRedundant bool = true

@description('Mailbox that the global alerts notify (docs/operations.md#what-to-watch); the parameter file reads it from ALERT_EMAIL.')
@minLength(3)
param alertEmail string

@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

param tags object = {}

var regions = loadJsonContent('regions.json')
var contract = loadJsonContent('app-contract.json')
var allTags = union(tags, { app: 'roger-cloud', region: 'global' })

// The global resources' own workspace: global.bicep is deployed before any region, so a regional
// workspace cannot receive the directory account's and Front Door's logs on a first deployment,
// and the global resources should not depend on one region staying deployed.
module logs 'modules/log-analytics.bicep' = {
  name: 'log-analytics'
  params: {
    name: '${namePrefix}-global-logs'
    location: directoryLocation
    retentionDays: logRetentionDays
    tags: allTags
  }
}

module directory 'modules/cosmos.bicep' = {
  name: 'directory'
  params: {
    name: directoryAccountName
    location: directoryLocation
    databaseName: contract.cosmos.directory.database
    containers: contract.cosmos.directory.containers
    backupTier: cosmosBackupTier
    zoneRedundant: cosmosZoneRedundant
    workspaceResourceId: logs.outputs.resourceId
    tags: allTags
  }
}

module entryPoint 'modules/front-door.bicep' = {
  name: 'entry-point'
  params: {
    profileName: frontDoorName(namePrefix)
    endpointName: frontDoorEndpointName(namePrefix)
    origins: map(regions, region => {
      id: region.id
      hostName: appHostName(namePrefix, region.id)
    })
    customDomain: customDomain
    workspaceResourceId: logs.outputs.resourceId
    tags: allTags
  }
}

module alerts 'modules/global-alerts.bicep' = {
  name: 'alerts'
  params: {
    prefix: '${namePrefix}-global'
    alertEmail: alertEmail
    directoryAccountResourceId: directory.outputs.resourceId
    frontDoorProfileResourceId: entryPoint.outputs.profileResourceId
    tags: allTags
  }
}

output directoryAccountName string = directory.outputs.name
output discoveryUrl string = empty(customDomain) ? 'https://${entryPoint.outputs.hostName}' : 'https://discovery.${customDomain}'
@description('The regional API URLs (the OAuth issuers), as the regional deployments compute them.')
output apiUrls object = toObject(regions, region => region.id, region => apiUrl(namePrefix, region.id, customDomain))
@description('With a custom domain: the CNAME and TXT records the domain owner creates (infra/README.md#custom-domains). Empty otherwise.')
output dnsRecords array = entryPoint.outputs.dnsRecords
