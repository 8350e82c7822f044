using './main.bicep'

// The pipeline sets these environment variables from repository variables (infra/README.md).
var prefix = readEnvironmentVariable('ROGER_NAME_PREFIX')

param namePrefix = prefix
param globalResourceGroupName = '${prefix}-global'
param entraClientId = readEnvironmentVariable('ENTRA_CLIENT_ID')
param alertEmail = readEnvironmentVariable('ALERT_EMAIL')
param regionId = 'eu'
param printerListenKey = 'primary'
param maximumInstanceCount = 100
param instanceMemoryMB = 2048
param logRetentionDays = 30
// Empty unless the repository variable ROGER_CUSTOM_DOMAIN names one (infra/README.md#custom-domains).
param customDomain = readEnvironmentVariable('ROGER_CUSTOM_DOMAIN', '')
param cosmosBackupTier = 'Continuous7Days'
param cosmosZoneRedundant = true
param storageZoneRedundant = true
param functionAppZoneRedundant = false
