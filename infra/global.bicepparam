using './global.bicep'

// The pipeline sets ROGER_NAME_PREFIX from the repository variable of the same name.
param namePrefix = readEnvironmentVariable('ROGER_NAME_PREFIX')
param alertEmail = readEnvironmentVariable('ALERT_EMAIL')
param directoryLocation = 'northeurope'
