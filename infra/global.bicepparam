using './global.bicep'

// The pipeline sets ROGER_NAME_PREFIX from the repository variable of the same name.
param namePrefix = readEnvironmentVariable('ROGER_NAME_PREFIX')
param alertEmail = readEnvironmentVariable('ALERT_EMAIL')
param directoryLocation = 'northeurope'
// Empty unless the repository variable ROGER_CUSTOM_DOMAIN names one (infra/README.md#custom-domains).
param customDomain = readEnvironmentVariable('ROGER_CUSTOM_DOMAIN', '')
param cosmosBackupTier = 'Continuous7Days'
param cosmosZoneRedundant = true
