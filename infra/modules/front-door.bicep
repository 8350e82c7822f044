// The global entry point for discovery (docs/architecture.md#topology): one Azure Front Door endpoint in front
// of every regional app. Only the discovery paths are routed; everything else (sign-in, jobs,
// the OAuth metadata of each issuer) is reached at the region's own URL.

param profileName string
param endpointName string
@description('The regional apps: { id, hostName }.')
param origins array
@description('Log Analytics workspace that receives the profile\'s health-probe log and metrics.')
param workspaceResourceId string
param tags object

resource profile 'Microsoft.Cdn/profiles@2024-02-01' = {
  name: profileName
  location: 'global'
  tags: tags
  sku: {
    name: 'Standard_AzureFrontDoor'
  }
  properties: {
    originResponseTimeoutSeconds: 30
  }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-02-01' = {
  parent: profile
  name: endpointName
  location: 'global'
  tags: tags
  properties: {
    enabledState: 'Enabled'
  }
}

resource originGroup 'Microsoft.Cdn/profiles/originGroups@2024-02-01' = {
  parent: profile
  name: 'regional-apis'
  properties: {
    // The nearest healthy region answers; every region serves the same catalog and directory.
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
      additionalLatencyInMilliseconds: 50
    }
    // /regions answers from configuration: probing it costs no database request.
    healthProbeSettings: {
      probePath: '/regions'
      probeRequestType: 'GET'
      probeProtocol: 'Https'
      probeIntervalInSeconds: 100
    }
    sessionAffinityState: 'Disabled'
  }
}

resource origin 'Microsoft.Cdn/profiles/originGroups/origins@2024-02-01' = [
  for region in origins: {
    parent: originGroup
    name: region.id
    properties: {
      hostName: region.hostName
      originHostHeader: region.hostName
      httpPort: 80
      httpsPort: 443
      priority: 1
      weight: 1000
      enabledState: 'Enabled'
      enforceCertificateNameCheck: true
    }
  }
]

resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = {
  parent: endpoint
  name: 'discovery'
  properties: {
    originGroup: {
      id: originGroup.id
    }
    // Front Door allows a wildcard only at the end of a pattern: /tenants/* stands for /tenants/{slug}/region.
    patternsToMatch: ['/regions', '/regions/*', '/tenants/*']
    supportedProtocols: ['Http', 'Https']
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
    enabledState: 'Enabled'
  }
  // A route needs an origin group with at least one origin.
  dependsOn: [
    origin
  ]
}

// The health-probe log and the metrics (requests, 4xx/5xx percentages, latency, origin health).
// Not the access log: it records every caller's IP address and user agent, personal data the
// project keeps out of its logs (docs/security.md#logs-errors-and-telemetry); the metrics answer
// the operational questions without it.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: profile
  properties: {
    workspaceId: workspaceResourceId
    logs: [
      {
        category: 'FrontDoorHealthProbeLog'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output hostName string = endpoint.properties.hostName
output profileResourceId string = profile.id
