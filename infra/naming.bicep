// Names of everything, derived from the name prefix and the region id: the regional templates,
// the global one and the pipeline compute the same names from the same two inputs, so no
// deployment has to read another's outputs to find, say, the other region's API URL.
// Names that must be unique across Azure and need not be known elsewhere (storage, Key Vault)
// add a hash of the resource group instead.

@export()
func appName(prefix string, regionId string) string => '${prefix}-${regionId}-api'

@export()
func serviceBusName(prefix string, regionId string) string => '${prefix}-${regionId}-bus'

@export()
func cosmosName(prefix string, regionId string) string => '${prefix}-${regionId}-cosmos'

@export()
func directoryCosmosName(prefix string) string => '${prefix}-directory'

@export()
@description('The Front Door profile of global.bicep, shared by every region.')
func frontDoorName(prefix string) string => '${prefix}-global-fd'

@export()
@description('Its one endpoint: discovery, and with a custom domain every region\'s API and web app.')
func frontDoorEndpointName(prefix string) string => '${prefix}-discovery'

@export()
@description('The app\'s default host name: where Front Door reaches it. `.azurewebsites.net` is the suffix of Azure\'s public cloud (national clouds have their own: infra/README.md#not-covered-here); global.bicep, deployed before any app exists, cannot read it from one.')
func appHostName(prefix string, regionId string) string => '${appName(prefix, regionId)}.azurewebsites.net'

@export()
@description('The regional API, which is also the OAuth issuer of that region: <region>.<customDomain> through Front Door when a custom domain is set, else the app\'s default host name.')
func apiUrl(prefix string, regionId string, customDomain string) string =>
  'https://${empty(customDomain) ? appHostName(prefix, regionId) : '${regionId}.${customDomain}'}'

@export()
@description('Where printers connect over AMQP 1.0 (TLS, port 5671). `suffix`: the cloud\'s Service Bus DNS suffix with its leading dot, read from a deployed namespace\'s host name (main.bicep).')
func amqpUrl(prefix string, regionId string, suffix string) string => 'amqps://${serviceBusName(prefix, regionId)}${suffix}'

@export()
@description('An app setting that App Service fills from Key Vault, with the identity named in keyVaultReferenceIdentity.')
func keyVaultReference(vaultName string, secretName string) string => '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})'
