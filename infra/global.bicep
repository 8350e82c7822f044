// What all regions share (docs/architecture.md#topology), deployed once, before the regions, into its own resource group:
//   az deployment group create -g <prefix>-global --parameters infra/global.bicepparam
// - the tenant directory: a small Cosmos DB account (slug → home region, nothing personal),
//   which each region's deployment then opens to its own app identity;
// - the global entry point for discovery: Azure Front Door in front of every regional app.

import { appName, directoryCosmosName } from 'naming.bicep'

@description('The same prefix as the regional deployments.')
@minLength(2)
@maxLength(12)
param namePrefix string

@description('Azure location of the tenant directory account.')
param directoryLocation string

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
    name: directoryCosmosName(namePrefix)
    location: directoryLocation
    databaseName: contract.cosmos.directory.database
    containers: contract.cosmos.directory.containers
    workspaceResourceId: logs.outputs.resourceId
    tags: allTags
  }
}

module entryPoint 'modules/front-door.bicep' = {
  name: 'entry-point'
  params: {
    profileName: '${namePrefix}-global-fd'
    endpointName: '${namePrefix}-discovery'
    origins: map(regions, region => {
      id: region.id
      hostName: '${appName(namePrefix, region.id)}.azurewebsites.net'
    })
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
output discoveryUrl string = 'https://${entryPoint.outputs.hostName}'
