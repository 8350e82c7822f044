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

param tags object = {}

var regions = loadJsonContent('regions.json')
var contract = loadJsonContent('app-contract.json')
var allTags = union(tags, { app: 'roger-cloud', region: 'global' })

module directory 'modules/cosmos.bicep' = {
  name: 'directory'
  params: {
    name: directoryCosmosName(namePrefix)
    location: directoryLocation
    databaseName: contract.cosmos.directory.database
    containers: contract.cosmos.directory.containers
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
    tags: allTags
  }
}

output directoryAccountName string = directory.outputs.name
output discoveryUrl string = 'https://${entryPoint.outputs.hostName}'
