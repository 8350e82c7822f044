// The region's app identity: one user-assigned managed identity that the Function App runs as.
// It reaches Cosmos DB, Service Bus, Key Vault, the runtime storage and Application Insights
// through role assignments made next to each of those resources; it holds no key of any of them.

param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output resourceId string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
