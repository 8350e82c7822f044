// One region of Roger Cloud (docs/architecture.md#topology): deployed once per region into its own resource group,
//   az deployment group create -g <prefix>-eu --parameters infra/eu.bicepparam
// after global.bicep. What each resource is for: infra/README.md.

import { amqpUrl, apiUrl, appName, cosmosName, directoryCosmosName, frontDoorEndpointName, frontDoorName, keyVaultReference, serviceBusName } from 'naming.bicep'

@description('Lowercase prefix of every resource name, e.g. `roger`: the derived names (e.g. `<prefix>-eu-api.azurewebsites.net`) must be free in Azure.')
@minLength(2)
@maxLength(12)
param namePrefix string

@description('The region this deployment serves: an id from regions.json.')
param regionId string

@description('Resource group of global.bicep, which holds the tenant directory account.')
param globalResourceGroupName string

@description('Application (client) id of the Entra ID app registration that connects users\' OneDrive (docs/operations.md#the-entra-app-registration).')
@minLength(1)
param entraClientId string

@description('Entra ID authority for OneDrive sign-in; `organizations` admits any work or school account.')
param entraAuthority string = '${environment().authentication.loginEndpoint}organizations'

@description('Microsoft Graph origin (national clouds have their own).')
param graphBaseUrl string = 'https://graph.microsoft.com'

@description('Where the web app\'s browser uploads documents itself: the hosts of OneDrive for work or school upload sessions (Graph\'s uploadUrl), admitted by its CSP connect-src (docs/web-app.md#in-azure). National clouds have their own.')
param webUploadOrigins array = ['https://*.sharepoint.com']

@minValue(60)
@maxValue(3600)
param accessTokenLifetimeSeconds int = 1200

@minValue(1)
@maxValue(60)
param deviceCodePollIntervalSeconds int = 5

@minValue(0)
@maxValue(86400)
param discoveryCacheSeconds int = 300

@description('Release topics new printers are spread over, `releases-00` up to `releases-NN` (RELEASE_TOPIC_COUNT; docs/flows.md#release-to-printers). Raise it to add topics to a live region (docs/operations.md#adding-release-topics); never lower it while printers listen on the last ones.')
@minValue(1)
@maxValue(100)
param releaseTopicCount int = loadJsonContent('app-contract.json').serviceBus.releaseTopics.defaultCount

@description('Printers per release topic (RELEASE_TOPIC_CAPACITY): a margin under Service Bus\'s 2,000 subscriptions per topic.')
@minValue(1)
@maxValue(2000)
param releaseTopicCapacity int = loadJsonContent('app-contract.json').serviceBus.releaseTopics.defaultCapacity

@minValue(1024)
@maxValue(1048576)
param httpBodyLimitBytes int = 65536

@description('Parent domain for custom host names, e.g. `roger.example.com`, the same value as global.bicep\'s: this region\'s API becomes https://<region>.<domain> through Front Door, and the app admits only Front Door (infra/README.md#custom-domains). Empty: the app\'s default host name, reached directly.')
param customDomain string = ''

@description('Point-in-time restore window of the regional account (docs/operations.md): 7 days at no backup-storage charge, or 30 days.')
@allowed(['Continuous7Days', 'Continuous30Days'])
param cosmosBackupTier string = 'Continuous7Days'

@description('Zone redundancy of the regional Cosmos DB account. Azure fixes it when the account is created: an account created without it, and every copy a point-in-time restore makes, keeps false (infra/README.md#zone-redundancy).')
param cosmosZoneRedundant bool = true

@description('Zone-redundant runtime storage (Standard_ZRS) rather than locally redundant; always ZRS when `functionAppZoneRedundant` is on. Changing it on an existing account is a conversion, not an update (infra/README.md#zone-redundancy).')
param storageZoneRedundant bool = true

@description('Zone redundancy of the Flex Consumption plan: the platform then keeps at least two always-ready instances, billed around the clock, so the app no longer scales to zero (infra/README.md#zone-redundancy).')
param functionAppZoneRedundant bool = false

@description('Which key of the printers\' Listen rule is in use; flip it to rotate (infra/README.md).')
@allowed(['primary', 'secondary'])
param printerListenKey string = 'primary'

@description('Most instances Flex Consumption may run: the ceiling of both scale and cost.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Name of the regional Cosmos DB account. Set it in the region\'s .bicepparam only after a point-in-time restore, to keep the app on the restored copy (docs/operations.md#backup-and-restore); otherwise the name derived from the prefix.')
@minLength(3)
@maxLength(44)
param cosmosAccountName string = cosmosName(namePrefix, regionId)

@description('Name of the tenant directory\'s Cosmos DB account: the same value as global.bicep\'s `directoryAccountName` (changed only after a restore).')
@minLength(3)
@maxLength(44)
param directoryAccountName string = directoryCosmosName(namePrefix)

@description('`recover` when this region\'s Key Vault is soft-deleted under the same name (the resource group was deleted and re-created): the pipeline passes it after `az keyvault list-deleted`.')
@allowed(['default', 'recover'])
param keyVaultCreateMode string = 'default'

@description('Mailbox that the region\'s alerts notify (docs/operations.md#what-to-watch); the parameter files read it from ALERT_EMAIL.')
@minLength(3)
param alertEmail string

// Microsoft Defender for Cloud plans (modules/defender.bicep): settings of the whole subscription,
// so both regions' parameter files must agree. Only the plans set to `Standard` are written. `Standard` costs money: docs/costs.md#microsoft-defender-for-cloud.
@description('Defender for Azure Cosmos DB: `Standard` is billed per 100 RU/s provisioned per hour; for serverless accounts per request units consumed. `Free` (the default) leaves the plan as the subscription has it.')
@allowed(['Free', 'Standard'])
param defenderCosmosDb string = 'Free'

@description('Defender for Key Vault, per-vault plan: `Standard` is billed per vault per month. `Free` (the default) leaves the plan as the subscription has it.')
@allowed(['Free', 'Standard'])
param defenderKeyVault string = 'Free'

@description('Defender for App Service: `Standard` is billed per App Service plan instance per hour (about US$15 a month per instance); check that it covers Flex Consumption before paying for it. `Free` (the default) leaves the plan as the subscription has it.')
@allowed(['Free', 'Standard'])
param defenderAppService string = 'Free'

@description('Defender for Storage, per-account plan without malware scanning: `Standard` is billed per storage account per month (about US$10), plus a charge per million transactions above the included ones. `Free` (the default) leaves the plan as the subscription has it.')
@allowed(['Free', 'Standard'])
param defenderStorage string = 'Free'

@description('Defender for Resource Manager, per-subscription plan: `Standard` is billed per subscription per month. `Free` (the default) leaves the plan as the subscription has it.')
@allowed(['Free', 'Standard'])
param defenderResourceManager string = 'Free'

param tags object = {}

var regions = loadJsonContent('regions.json')
var contract = loadJsonContent('app-contract.json')
// regionId must be one of regions.json's ids (a parameter's @allowed list cannot be read from a
// file): for any other value the filter finds nothing and the deployment fails here.
var location = filter(regions, region => region.id == regionId)[0].location
var allTags = union(tags, { app: 'roger-cloud', region: regionId })
// Proxies that append to X-Forwarded-For in front of the app (TRUSTED_PROXY_HOPS): App Service's
// front end, and Front Door when the API is routed through it — which is then the only way in
// (the app admits only this profile's requests), so no caller can choose the address it is
// recorded and rate-limited under. Without a custom domain Front Door routes only discovery,
// which records no addresses.
var behindFrontDoor = !empty(customDomain)
var trustedProxyHops = behindFrontDoor ? 2 : 1
var resourceToken = uniqueString(resourceGroup().id)
// Storage account and Key Vault names: globally unique, letters and digits only.
var compactPrefix = toLower(replace(namePrefix, '-', ''))
var keyVaultName = take('${compactPrefix}${regionId}kv${resourceToken}', 24)

// Key Vault secret names. Generated by the pipeline on first deployment (tools/keys.ts):
// signing keys, OneDrive token keys, lookup keys (badges, PINs), operator key. Written by this template: the Listen key.
// Set by an operator once: the Entra client secret.
var secretNames = {
  signingKeys: 'roger-signing-keys'
  oneDriveTokenKeys: 'onedrive-token-keys'
  lookupKeys: 'roger-lookup-keys'
  operatorKey: 'roger-operator-key'
  serviceBusListenKey: 'servicebus-listen-key'
  entraClientSecret: 'entra-client-secret'
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: '${namePrefix}-${regionId}-id'
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: '${namePrefix}-${regionId}-logs'
    insightsName: '${namePrefix}-${regionId}-insights'
    location: location
    publisherPrincipalId: identity.outputs.principalId
    logRetentionDays: logRetentionDays
    tags: allTags
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: keyVaultName
    location: location
    readerPrincipalId: identity.outputs.principalId
    createMode: keyVaultCreateMode
    workspaceResourceId: monitoring.outputs.workspaceResourceId
    tags: allTags
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    name: cosmosAccountName
    location: location
    databaseName: contract.cosmos.regional.database
    containers: contract.cosmos.regional.containers
    backupTier: cosmosBackupTier
    zoneRedundant: cosmosZoneRedundant
    dataContributorPrincipalIds: [identity.outputs.principalId]
    workspaceResourceId: monitoring.outputs.workspaceResourceId
    tags: allTags
  }
}

// global.bicep's Front Door: its id is the X-Azure-FDID header the app admits when the API is
// routed through it.
resource frontDoor 'Microsoft.Cdn/profiles@2024-02-01' existing = {
  name: frontDoorName(namePrefix)
  scope: resourceGroup(globalResourceGroupName)
}

resource directoryAccount 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: directoryAccountName
  scope: resourceGroup(globalResourceGroupName)
}

module directoryAccess 'modules/cosmos-data-contributor.bicep' = {
  name: 'directory-access-${regionId}'
  scope: resourceGroup(globalResourceGroupName)
  params: {
    accountName: directoryAccount.name
    databaseName: contract.cosmos.directory.database
    principalId: identity.outputs.principalId
  }
}

// Every region keeps `releases` (printers enrolled before sharding), and has releaseTopicCount
// topics `releases-00 …` named as shared/messaging/messaging.ts names them (a test compiles both).
var releaseTopicNaming = contract.serviceBus.releaseTopics
var releaseTopics = concat(
  contract.serviceBus.topics,
  map(range(0, releaseTopicCount), i => {
    name: '${releaseTopicNaming.namePrefix}${padLeft(i, releaseTopicNaming.nameDigits, '0')}'
    duplicateDetectionHistoryTimeWindow: releaseTopicNaming.duplicateDetectionHistoryTimeWindow
  })
)

module serviceBus 'modules/service-bus.bicep' = {
  name: 'service-bus'
  params: {
    name: serviceBusName(namePrefix, regionId)
    location: location
    topics: releaseTopics
    listenRuleName: contract.serviceBus.listenRuleName
    appPrincipalId: identity.outputs.principalId
    keyVaultName: keyVault.outputs.name
    listenKeySecretName: secretNames.serviceBusListenKey
    printerListenKey: printerListenKey
    workspaceResourceId: monitoring.outputs.workspaceResourceId
    tags: allTags
  }
}

// The Service Bus DNS suffix of this cloud (`.servicebus.windows.net` in Azure's public cloud),
// read from this region's namespace and applied to every region's: all regions are in one cloud.
var serviceBusSuffix = substring(serviceBus.outputs.hostName, indexOf(serviceBus.outputs.hostName, '.'))

// Exactly the settings loadConfig reads in Azure (shared/config/settings.ts, `where: 'azure'`);
// tests/infra/config-parity.test.ts fails when the two differ. Secrets are Key Vault references.
var appSettings = {
  ROGER_REGION: regionId
  ROGER_REGIONS: string(map(regions, region => {
    id: region.id
    name: region.name
    apiUrl: apiUrl(namePrefix, region.id, customDomain)
    amqpUrl: amqpUrl(namePrefix, region.id, serviceBusSuffix)
    // No amqpWebSocketUrl: the app derives it from amqpUrl (wss://<namespace>/$servicebus/websocket),
    // and a Function App still running the code from before, which refuses unknown region fields,
    // keeps starting while this deployment changes its settings (docs/operations.md).
  }))
  COSMOS_ENDPOINT: cosmos.outputs.endpoint
  COSMOS_DATABASE: contract.cosmos.regional.database
  DIRECTORY_COSMOS_ENDPOINT: directoryAccount.properties.documentEndpoint
  DIRECTORY_COSMOS_DATABASE: contract.cosmos.directory.database
  AZURE_CLIENT_ID: identity.outputs.clientId
  HTTP_BODY_LIMIT_BYTES: string(httpBodyLimitBytes)
  TRUSTED_PROXY_HOPS: string(trustedProxyHops)
  DISCOVERY_CACHE_SECONDS: string(discoveryCacheSeconds)
  ROGER_SIGNING_KEYS: keyVaultReference(keyVaultName, secretNames.signingKeys)
  ROGER_OPERATOR_KEY: keyVaultReference(keyVaultName, secretNames.operatorKey)
  ACCESS_TOKEN_LIFETIME_SECONDS: string(accessTokenLifetimeSeconds)
  DEVICE_CODE_POLL_INTERVAL_SECONDS: string(deviceCodePollIntervalSeconds)
  // The web app's route (webRoute below) exists only behind Front Door; elsewhere QR codes open /device.
  WEB_APP_SERVED: behindFrontDoor ? 'on' : 'off'
  SERVICEBUS_NAMESPACE: serviceBus.outputs.hostName
  SERVICEBUS_LISTEN_KEY_NAME: contract.serviceBus.listenRuleName
  SERVICEBUS_LISTEN_KEY: keyVaultReference(keyVaultName, secretNames.serviceBusListenKey)
  // Set after the topics exist: these settings name the service-bus module's output, so the app
  // (and the count it enrolls printers over) is updated only once every topic is there.
  RELEASE_TOPIC_COUNT: string(releaseTopicCount)
  RELEASE_TOPIC_CAPACITY: string(releaseTopicCapacity)
  ENTRA_CLIENT_ID: entraClientId
  ENTRA_CLIENT_SECRET: keyVaultReference(keyVaultName, secretNames.entraClientSecret)
  ENTRA_AUTHORITY: entraAuthority
  GRAPH_BASE_URL: graphBaseUrl
  ONEDRIVE_TOKEN_KEYS: keyVaultReference(keyVaultName, secretNames.oneDriveTokenKeys)
  ROGER_LOOKUP_KEYS: keyVaultReference(keyVaultName, secretNames.lookupKeys)
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    prefix: '${namePrefix}-${regionId}'
    location: location
    alertEmail: alertEmail
    insightsName: monitoring.outputs.insightsName
    workspaceName: monitoring.outputs.workspaceName
    cosmosAccountResourceId: cosmos.outputs.resourceId
    serviceBusNamespaceResourceId: serviceBus.outputs.resourceId
    keyVaultResourceId: keyVault.outputs.resourceId
    tags: allTags
  }
}

// Only when a plan is on: the pricings are subscription settings, and writing them needs a right on
// the subscription (infra/README.md, Prerequisites) that a deployment with every plan off does not.
module defender 'modules/defender.bicep' = if (contains(
  [defenderCosmosDb, defenderKeyVault, defenderAppService, defenderStorage, defenderResourceManager],
  'Standard'
)) {
  name: 'defender-${regionId}'
  scope: subscription()
  params: {
    cosmosDb: defenderCosmosDb
    keyVault: defenderKeyVault
    appService: defenderAppService
    storage: defenderStorage
    resourceManager: defenderResourceManager
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    name: appName(namePrefix, regionId)
    planName: '${namePrefix}-${regionId}-plan'
    storageAccountName: take('${compactPrefix}${regionId}fn${resourceToken}', 24)
    location: location
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    identityPrincipalId: identity.outputs.principalId
    appSettings: appSettings
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    storageZoneRedundant: storageZoneRedundant
    planZoneRedundant: functionAppZoneRedundant
    frontDoorId: behindFrontDoor ? frontDoor.properties.frontDoorId : ''
    workspaceResourceId: monitoring.outputs.workspaceResourceId
    tags: allTags
  }
  // The data role on the tenant directory must be in place before the app first starts (Key
  // Vault and Service Bus are already dependencies through the outputs the settings use).
  dependsOn: [
    directoryAccess
  ]
}

// The web app (docs/web-app.md#in-azure): its files in this region's storage static website, served
// by Front Door at /app/* of this region's host name, same-origin with the API. Front Door serves
// the API only with a custom domain, so only then is there a route; without one the pipeline
// still uploads the build, and the app is not reachable under the issuer (infra/README.md#the-web-app).
module webApp 'modules/web-app.bicep' = {
  name: 'web-app'
  params: {
    name: take('${compactPrefix}${regionId}web${resourceToken}', 24)
    location: location
    zoneRedundant: storageZoneRedundant
    workspaceResourceId: monitoring.outputs.workspaceResourceId
    tags: allTags
  }
}

module webRoute 'modules/web-route.bicep' = if (behindFrontDoor) {
  name: 'web-route-${regionId}'
  scope: resourceGroup(globalResourceGroupName)
  params: {
    profileName: frontDoorName(namePrefix)
    endpointName: frontDoorEndpointName(namePrefix)
    regionId: regionId
    webHostName: webApp.outputs.webHostName
    // Always the upload hosts: a region always has a OneDrive registration (entraClientId is
    // required), and whether its secret is in the vault is decided at run time, which the template
    // cannot see; the local host leaves them out then (infra/README.md#the-web-app says why both are fine).
    uploadOrigins: webUploadOrigins
  }
}

output appName string = functionApp.outputs.name
@description('This region\'s API and OAuth issuer: the custom host name when there is one (the app then answers Front Door only).')
output apiUrl string = behindFrontDoor ? apiUrl(namePrefix, regionId, customDomain) : 'https://${functionApp.outputs.defaultHostName}'
output keyVaultName string = keyVault.outputs.name
@description('The storage account whose static website (`$web`, under app/) holds the web app: the pipeline uploads web/dist there.')
output webStorageAccount string = webApp.outputs.name
@description('That static website\'s host name (`<account>.z<n>.web.core.windows.net`): without a custom domain the pipeline checks the upload there.')
output webSiteHost string = webApp.outputs.webHostName
