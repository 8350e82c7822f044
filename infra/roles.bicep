// Built-in Azure role definition ids used by the templates (ids, not names: names can be renamed).

@export()
var roleIds = {
  // Blobs of the Functions runtime storage: host leases and keys, and the deployment package.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // The web app's static website: the pipeline uploads the build (modules/web-app.bicep).
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  // Read secrets through Key Vault references, nothing else.
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  // Write secrets: the deployment (generated keys) and the operators who rotate them.
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  // Send telemetry to an Application Insights resource that accepts Entra ID only.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  // On the release topics only: create and delete the printers' subscriptions.
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  // Cosmos DB data plane (a role of the account, not of Azure RBAC): read and write items.
  cosmosDataContributor: '00000000-0000-0000-0000-000000000002'
}
