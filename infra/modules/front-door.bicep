// The global entry point for discovery (docs/architecture.md#topology): one Azure Front Door endpoint in front
// of every regional app. Without a custom domain only the discovery paths are routed; everything
// else (sign-in, jobs, the OAuth metadata of each issuer) is reached at the region's own URL.
//
// With a custom domain (`customDomain`, e.g. roger.example.com) Front Door also serves
// discovery.<domain> (the discovery routes) and, per region, <region>.<domain> (every path, to
// that region's app only): the regional API is then reached through Front Door, and the
// regional deployment closes the app to direct calls (function-app.bicep). Certificates are
// Front Door managed certificates, TLS 1.2 minimum; the DNS records are the domain owner's to
// create (the `dnsRecords` output, infra/README.md#custom-domains).

param profileName string
param endpointName string
@description('The regional apps: { id, hostName }.')
param origins array
@description('Parent domain of the custom host names (discovery.<domain>, <region>.<domain>); empty: none, the Front Door and App Service host names only.')
param customDomain string
@description('Log Analytics workspace that receives the profile\'s health-probe log and metrics.')
param workspaceResourceId string
param tags object

// Front Door names: letters, digits and hyphens. The discovery domain first, then one per region
// in the order of `origins` (the regional routes find theirs at index i + 1).
var domains = empty(customDomain)
  ? []
  : concat(
      [{ name: 'discovery', hostName: 'discovery.${customDomain}' }],
      map(origins, region => { name: 'api-${region.id}', hostName: '${region.id}.${customDomain}' })
    )
var regionalApis = empty(customDomain) ? [] : origins

resource profile 'Microsoft.Cdn/profiles@2024-02-01' = {
  name: profileName
  location: 'global'
  tags: tags
  sku: {
    name: 'Standard_AzureFrontDoor'
  }
  properties: {
    // Longer than the host lets a function run (host.json functionTimeout, 2 minutes; every call to a
    // dependency is bounded well within it, docs/operations.md#time-limits), so a slow request ends
    // with the app's own answer rather than Front Door's 504 while the function keeps running.
    // Azure allows 16–240 s; App Service's front end cuts requests at 230 s.
    originResponseTimeoutSeconds: 150
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
    // /regions answers from configuration: probing it costs no database request, and HEAD no
    // body. Every Front Door edge site that carries traffic probes each origin on its own, so the
    // volume is the number of sites ÷ the interval: about 600 a minute per origin has been
    // reported at 30 s (MicrosoftDocs/azure-docs#82741), i.e. ~300 sites. At 240 s (the maximum
    // is 255) that is 300 / 240 s ≈ 75 a minute, against 180 a minute at the former 100 s: 2.4×
    // fewer probe executions. Still about one a second per region, enough to keep one instance
    // from scaling to zero; on-demand Flex bills executions, not idle instances, so what the
    // probes cost is their own short executions.
    healthProbeSettings: {
      probePath: '/regions'
      probeRequestType: 'HEAD'
      probeProtocol: 'Https'
      probeIntervalInSeconds: 240
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
    customDomains: empty(customDomain) ? [] : [{ id: customDomains[0].id }]
    enabledState: 'Enabled'
  }
  // A route needs an origin group with at least one origin.
  dependsOn: [
    origin
  ]
}

// Validated by a TXT record (_dnsauth.<host>); Front Door then issues and renews the certificate.
resource customDomains 'Microsoft.Cdn/profiles/customDomains@2024-02-01' = [
  for domain in domains: {
    parent: profile
    name: domain.name
    properties: {
      hostName: domain.hostName
      tlsSettings: {
        certificateType: 'ManagedCertificate'
        minimumTlsVersion: 'TLS12'
      }
    }
  }
]

// One origin group per region holding that region's app only: <region>.<domain> must reach its
// own region, whose issuer it is, never the nearest one. A single origin has nowhere to fail
// over to, so these groups send no health probes.
resource apiOriginGroup 'Microsoft.Cdn/profiles/originGroups@2024-02-01' = [
  for region in regionalApis: {
    parent: profile
    name: 'api-${region.id}'
    properties: {
      loadBalancingSettings: {
        sampleSize: 4
        successfulSamplesRequired: 3
        additionalLatencyInMilliseconds: 50
      }
      sessionAffinityState: 'Disabled'
    }
  }
]

resource apiOrigin 'Microsoft.Cdn/profiles/originGroups/origins@2024-02-01' = [
  for (region, i) in regionalApis: {
    parent: apiOriginGroup[i]
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

// Every path of <region>.<domain>, to that region's app; nothing cached (no cache configuration).
resource apiRoute 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = [
  for (region, i) in regionalApis: {
    parent: endpoint
    name: 'api-${region.id}'
    properties: {
      originGroup: {
        id: apiOriginGroup[i].id
      }
      customDomains: [{ id: customDomains[i + 1].id }]
      patternsToMatch: ['/*']
      supportedProtocols: ['Http', 'Https']
      httpsRedirect: 'Enabled'
      forwardingProtocol: 'HttpsOnly'
      linkToDefaultDomain: 'Disabled'
      enabledState: 'Enabled'
    }
    dependsOn: [
      apiOrigin
    ]
  }
]

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
@description('The profile\'s Front Door id: the X-Azure-FDID header its requests carry, which the regional apps admit.')
output frontDoorId string = profile.properties.frontDoorId
@description('What the domain owner creates in DNS, per custom host name: a CNAME to the endpoint and a TXT record that proves ownership to Front Door.')
output dnsRecords array = [
  for (domain, i) in domains: {
    hostName: domain.hostName
    cname: endpoint.properties.hostName
    txtName: '_dnsauth.${domain.hostName}'
    txtValue: customDomains[i].properties.validationProperties.validationToken
  }
]
output profileResourceId string = profile.id
