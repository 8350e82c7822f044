// Microsoft Defender for Cloud plans for the resource types Roger Cloud uses. A plan is a setting of
// the whole subscription (Microsoft.Security/pricings), so main.bicep deploys this module at
// subscription scope, and only when at least one plan is on: with every plan off the deployment
// writes nothing outside its resource group and needs no subscription-scope right for it.
//
// `Standard` turns a plan's paid threat protection on, and only those plans are written. `Free`
// writes nothing: the plan stays as the subscription has it, so a plan someone else turned on is
// never turned off here (turning one off: infra/README.md). Prices: docs/costs.md#microsoft-defender-for-cloud.

targetScope = 'subscription'

@allowed(['Free', 'Standard'])
param cosmosDb string
@allowed(['Free', 'Standard'])
param keyVault string
@allowed(['Free', 'Standard'])
param appService string
@allowed(['Free', 'Standard'])
param storage string
@allowed(['Free', 'Standard'])
param resourceManager string

resource cosmosDbPlan 'Microsoft.Security/pricings@2024-01-01' = if (cosmosDb == 'Standard') {
  name: 'CosmosDbs'
  properties: {
    pricingTier: 'Standard'
  }
}

// Per vault, a fixed monthly price, rather than per transaction.
resource keyVaultPlan 'Microsoft.Security/pricings@2024-01-01' = if (keyVault == 'Standard') {
  name: 'KeyVaults'
  properties: {
    pricingTier: 'Standard'
    subPlan: 'PerKeyVault'
  }
}

resource appServicePlan 'Microsoft.Security/pricings@2024-01-01' = if (appService == 'Standard') {
  name: 'AppServices'
  properties: {
    pricingTier: 'Standard'
  }
}

// Per storage account, with activity monitoring only: on-upload malware scanning (charged per GB
// scanned) and sensitive-data discovery stay off — the accounts hold the app package and host state.
resource storagePlan 'Microsoft.Security/pricings@2024-01-01' = if (storage == 'Standard') {
  name: 'StorageAccounts'
  properties: {
    pricingTier: 'Standard'
    subPlan: 'DefenderForStorageV2'
    extensions: [
      {
        name: 'OnUploadMalwareScanning'
        isEnabled: 'False'
      }
      {
        name: 'SensitiveDataDiscovery'
        isEnabled: 'False'
      }
    ]
  }
}

// Per subscription, a fixed monthly price, rather than per API call.
resource resourceManagerPlan 'Microsoft.Security/pricings@2024-01-01' = if (resourceManager == 'Standard') {
  name: 'Arm'
  properties: {
    pricingTier: 'Standard'
    subPlan: 'PerSubscription'
  }
}
