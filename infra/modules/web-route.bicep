// The web app at /app/* of a region's own host name (<region>.<domain>), deployed by that region
// into global.bicep's Front Door: the app is then same-origin with the region's API, which is its
// OAuth issuer (sign-in against location.origin, calls to /api/*, roger-web's redirect URI
// {issuer}/app/auth/callback). Every other path stays on the region's `api-<region>` route to the
// Function App; Front Door takes the most specific pattern, so /app/* comes here.
// Origin: the region's storage static website (web-app.bicep), whose host name Azure picks when
// the account is created; hence deployed by the region, not by global.bicep.

@description('global.bicep\'s Front Door profile.')
param profileName string
@description('Its endpoint, which carries the regional custom domains.')
param endpointName string
param regionId string
@description('The region\'s static website host name (web-app.bicep\'s webHostName).')
param webHostName string
@description('Origins the browser uploads documents to itself (Graph upload sessions): added to connect-src.')
param uploadOrigins array

// The same headers as the API's (shared/http/http-handler.ts) and, for the page, the policy the
// local host sets (tools/local-web.ts webAppCsp): scripts from this origin only, no inline script;
// style 'unsafe-inline' for Fluent's run-time styles (docs/web-app.md). connect-src also
// admits OneDrive's upload hosts. tests/infra/compiled-templates.test.ts compares them with the local host's.
var connectSources = join(union(['\'self\''], uploadOrigins), ' ')
var contentSecurityPolicy = 'default-src \'none\'; script-src \'self\'; style-src \'self\' \'unsafe-inline\'; img-src \'self\' data:; font-src \'self\'; connect-src ${connectSources}; form-action \'self\'; base-uri \'none\'; frame-ancestors \'none\'; require-trusted-types-for \'script\''

resource profile 'Microsoft.Cdn/profiles@2024-02-01' existing = {
  name: profileName

  resource endpoint 'afdEndpoints' existing = {
    name: endpointName
  }

  resource domain 'customDomains' existing = {
    name: 'api-${regionId}'
  }
}

// One origin: nowhere to fail over to, so no health probes (as the api-<region> groups).
resource originGroup 'Microsoft.Cdn/profiles/originGroups@2024-02-01' = {
  parent: profile
  name: 'web-${regionId}'
  properties: {
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
      additionalLatencyInMilliseconds: 50
    }
    sessionAffinityState: 'Disabled'
  }
}

resource origin 'Microsoft.Cdn/profiles/originGroups/origins@2024-02-01' = {
  parent: originGroup
  name: 'site'
  properties: {
    hostName: webHostName
    originHostHeader: webHostName
    httpPort: 80
    httpsPort: 443
    priority: 1
    weight: 1000
    enabledState: 'Enabled'
    enforceCertificateNameCheck: true
  }
}

// Rule set names: letters and digits only.
resource ruleSet 'Microsoft.Cdn/profiles/ruleSets@2024-02-01' = {
  parent: profile
  name: 'web${regionId}'
}

// Every response under /app/: the security headers, whatever the storage site sent.
resource headersRule 'Microsoft.Cdn/profiles/ruleSets/rules@2024-02-01' = {
  parent: ruleSet
  name: 'securityheaders'
  properties: {
    order: 1
    conditions: []
    actions: [
      {
        name: 'ModifyResponseHeader'
        parameters: {
          typeName: 'DeliveryRuleHeaderActionParameters'
          headerAction: 'Overwrite'
          headerName: 'Strict-Transport-Security'
          value: 'max-age=63072000; includeSubDomains'
        }
      }
      {
        name: 'ModifyResponseHeader'
        parameters: {
          typeName: 'DeliveryRuleHeaderActionParameters'
          headerAction: 'Overwrite'
          headerName: 'X-Content-Type-Options'
          value: 'nosniff'
        }
      }
      {
        name: 'ModifyResponseHeader'
        parameters: {
          typeName: 'DeliveryRuleHeaderActionParameters'
          headerAction: 'Overwrite'
          headerName: 'Referrer-Policy'
          value: 'no-referrer'
        }
      }
      {
        name: 'ModifyResponseHeader'
        parameters: {
          typeName: 'DeliveryRuleHeaderActionParameters'
          headerAction: 'Overwrite'
          headerName: 'Content-Security-Policy'
          value: contentSecurityPolicy
        }
      }
    ]
    matchProcessingBehavior: 'Continue'
  }
}

// A screen (/app/jobs, /app/auth/callback, /app/approve?code=…: no file extension) is answered
// with /app/index.html, the address unchanged (a rewrite, not a redirect); /app/assets/* are
// files, and a missing one stays the site's 404. The rewrite's source pattern is matched against
// the path after the route's pattern (/app), and the destination goes back under it: '/' →
// '/index.html' sends /app/index.html to the origin (Front Door's URL rewrite documentation).
resource screensRule 'Microsoft.Cdn/profiles/ruleSets/rules@2024-02-01' = {
  parent: ruleSet
  name: 'screens'
  properties: {
    order: 2
    conditions: [
      {
        name: 'UrlFileExtension'
        parameters: {
          typeName: 'DeliveryRuleUrlFileExtensionMatchConditionParameters'
          // No extension at all: an extension of fewer than one character.
          operator: 'LessThan'
          matchValues: ['1']
          negateCondition: false
          transforms: []
        }
      }
    ]
    actions: [
      {
        name: 'UrlRewrite'
        parameters: {
          typeName: 'DeliveryRuleUrlRewriteActionParameters'
          sourcePattern: '/'
          destination: '/index.html'
          preserveUnmatchedPath: false
        }
      }
    ]
    matchProcessingBehavior: 'Continue'
  }
}

// `/app` without its slash: the `/app/*` pattern does not take it, so without this the region's
// `api-<region>` route would answer it (the Function App's 404). A route of its own for exactly
// `/app` whose one rule, with no condition, redirects to `/app/` (308, as the local host does). A
// route of its own rather than a path condition in the rule set above: nothing depends on how a
// rule sees the path relative to the route's pattern.
resource slashRuleSet 'Microsoft.Cdn/profiles/ruleSets@2024-02-01' = {
  parent: profile
  name: 'web${regionId}slash'
}

resource slashRule 'Microsoft.Cdn/profiles/ruleSets/rules@2024-02-01' = {
  parent: slashRuleSet
  name: 'toapp'
  properties: {
    order: 1
    conditions: []
    actions: [
      {
        name: 'UrlRedirect'
        parameters: {
          typeName: 'DeliveryRuleUrlRedirectActionParameters'
          redirectType: 'PermanentRedirect'
          destinationProtocol: 'MatchRequest'
          customPath: '/app/'
        }
      }
    ]
    matchProcessingBehavior: 'Stop'
  }
}

resource slashRoute 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = {
  parent: profile::endpoint
  name: 'web-${regionId}-slash'
  properties: {
    originGroup: {
      id: originGroup.id
    }
    customDomains: [{ id: profile::domain.id }]
    patternsToMatch: ['/app']
    ruleSets: [{ id: slashRuleSet.id }]
    supportedProtocols: ['Http', 'Https']
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Disabled'
    enabledState: 'Enabled'
  }
  dependsOn: [
    origin
    slashRule
  ]
}

// Cached at the edge as the files say (Cache-Control set on each blob at upload: index.html
// no-store, so never cached; assets immutable for a year) and compressed there: the site itself
// sends no gzip.
resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = {
  parent: profile::endpoint
  name: 'web-${regionId}'
  properties: {
    originGroup: {
      id: originGroup.id
    }
    customDomains: [{ id: profile::domain.id }]
    patternsToMatch: ['/app/*']
    ruleSets: [{ id: ruleSet.id }]
    supportedProtocols: ['Http', 'Https']
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Disabled'
    cacheConfiguration: {
      queryStringCachingBehavior: 'UseQueryString'
      compressionSettings: {
        isCompressionEnabled: true
        contentTypesToCompress: [
          'text/html'
          'text/css'
          'text/javascript'
          'application/javascript'
          'application/json'
          'image/svg+xml'
        ]
      }
    }
    enabledState: 'Enabled'
  }
  // A route needs an origin group with an origin, and its rule set's rules in place.
  dependsOn: [
    origin
    headersRule
    screensRule
  ]
}
