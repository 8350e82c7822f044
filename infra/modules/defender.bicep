// Microsoft Defender for Cloud plans for the resource types Roger Cloud uses. A plan is a setting of
// the whole subscription (Microsoft.Security/pricings), so main.bicep deploys this module at
// subscription scope, and only when at least one plan is on: with every plan off the deployment
// writes nothing outside its resource group and needs no subscription-scope right for it.
//
// `Free` is Defender for Cloud's free tier (posture recommendations, secure score); `Standard`
// turns the paid threat protection on. Prices: docs/costs.md#microsoft-defender-for-cloud.

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

resource cosmosDbPlan 'Microsoft.Security/pricings@2024-01-01' = {
  name: 'CosmosDbs'
  properties: {
    pricingTier: cosmosDb
  }
}

// Per vault, a fixed monthly price, rather than per transaction.
resource keyVaultPlan 'Microsoft.Security/pricings@2024-01-01' = {
  name: 'KeyVaults'
  properties: {
    pricingTier: keyVault
    subPlan: keyVault == 'Standard' ? 'PerKeyVault' : null
  }
}

resource appServicePlan 'Microsoft.Security/pricings@2024-01-01' = {
  name: 'AppServices'
  properties: {
    pricingTier: appService
  }
}

// Per storage account, with activity monitoring only: on-upload malware scanning (charged per GB
// scanned) and sensitive-data discovery stay off — the accounts hold the app package and host state.
resource storagePlan 'Microsoft.Security/pricings@2024-01-01' = {
  name: 'StorageAccounts'
  properties: {
    pricingTier: storage
    subPlan: storage == 'Standard' ? 'DefenderForStorageV2' : null
    extensions: storage == 'Standard'
      ? [
          {
            name: 'OnUploadMalwareScanning'
            isEnabled: 'False'
          }
          {
            name: 'SensitiveDataDiscovery'
            isEnabled: 'False'
          }
        ]
      : null
  }
}

// Per subscription, a fixed monthly price, rather than per API call.
resource resourceManagerPlan 'Microsoft.Security/pricings@2024-01-01' = {
  name: 'Arm'
  properties: {
    pricingTier: resourceManager
    subPlan: resourceManager == 'Standard' ? 'PerSubscription' : null
  }
}
