// Lärträff on Azure: the bot as a container on a Linux App Service, PostgreSQL Flexible Server,
// Key Vault for the secrets, a container registry, and the Azure Bot with its Teams channel.
// The web app reads its secrets and pulls its image with a user-assigned managed identity.
//
//   az deployment group create -g <resource group> -f infra/main.bicep -p infra/main.bicepparam
//
// See infra/README.md for the whole path, from the Entra app registration to Teams.

targetScope = 'resourceGroup'

@description('Short lowercase prefix for every resource name, e.g. "lartraff-nbk".')
@minLength(3)
@maxLength(16)
param namePrefix string

@description('Region for everything but the Azure Bot (which is global), e.g. "swedencentral".')
param location string = resourceGroup().location

@description('Application (client) id of the bot\'s Entra app registration (SingleTenant).')
param botAppId string

@description('Client secret of that app registration; stored in Key Vault only.')
@secure()
param botAppPassword string

@description('Entra tenant of the bot and of the people using it.')
param tenantId string = tenant().tenantId

@description('Administrator login of the PostgreSQL server.')
param postgresAdminLogin string = 'lartraffadmin'

@description('Administrator password of the PostgreSQL server; stored in Key Vault only.')
@secure()
param postgresAdminPassword string

@description('Image tag in the registry, e.g. "1.0.0" (push with: az acr build -r <registry> -t lartraff:<tag> -f infra/Dockerfile .).')
param imageTag string = 'latest'

@description('Publisher shown in Teams, e.g. "Norrbottens Kommuner".')
param appDeveloperName string = 'Lärträff'

@description('App Service plan size; B1 carries one series comfortably, P0v3 several instances.')
param appServiceSku string = 'B1'

@description('How many bot instances run side by side (they share PostgreSQL).')
@minValue(1)
@maxValue(10)
param instanceCount int = 1

@description('The organisers\' mailbox (UPN) that holds the sessions\' Teams meetings; empty: organisers set links by hand. Grant the Graph permissions first (infra/README.md, step 7).')
param graphMailbox string = ''

@description('An association\'s member organisations by tenant, "<tenant id>=<organisation>;…" (infra/README.md, "An association and its members"); empty for one organisation.')
param memberTenants string = ''

@description('Who skips the lobby of the sessions\' Teams meetings: invited, organizationAndFederated, everyone or off.')
@allowed(['invited', 'organizationAndFederated', 'everyone', 'off'])
param meetingLobbyBypass string = 'invited'

@description('Days of PostgreSQL point-in-time backups (7 to 35).')
@minValue(7)
@maxValue(35)
param backupRetentionDays int = 14

var compact = replace(namePrefix, '-', '')
var siteName = '${namePrefix}-bot'
var publicBaseUrl = 'https://${siteName}.azurewebsites.net'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-id'
  location: location
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: '${compact}kv'
  location: location
  properties: {
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 30
    enablePurgeProtection: true
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: '${namePrefix}-pg'
  location: location
  sku: { name: 'Standard_B1ms', tier: 'Burstable' }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 32, autoGrow: 'Enabled' }
    backup: { backupRetentionDays: backupRetentionDays, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
    authConfig: { passwordAuth: 'Enabled', activeDirectoryAuth: 'Disabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: 'lartraff'
  properties: { charset: 'UTF8', collation: 'sv_SE.utf8' }
}

// 0.0.0.0 means "Azure services": the App Service reaches the server, the internet does not.
resource postgresFromAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'AllowAzureServices'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'database-url'
  properties: {
    value: 'postgresql://${uriComponent(postgresAdminLogin)}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${database.name}?ssl=require'
  }
}

resource botPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'bot-app-password'
  properties: { value: botAppPassword }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: '${compact}acr'
  location: location
  sku: { name: 'Basic' }
  properties: { adminUserEnabled: false }
}

resource secretsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource imagePuller 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identity.id, acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry: the bot's spans and metrics (bot/telemetry), its console log in Log Analytics.
resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-insights'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${namePrefix}-plan'
  location: location
  kind: 'linux'
  sku: { name: appServiceSku, capacity: instanceCount }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2023-12-01' = {
  name: siteName
  location: location
  kind: 'app,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [secretsReader, imagePuller]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      linuxFxVersion: 'DOCKER|${registry.properties.loginServer}/lartraff:${imageTag}'
      acrUseManagedIdentityCreds: true
      acrUserManagedIdentityID: identity.properties.clientId
      alwaysOn: true
      healthCheckPath: '/readyz'
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      http20Enabled: true
      appSettings: [
        { name: 'WEBSITES_PORT', value: '3978' }
        { name: 'HOST', value: '0.0.0.0' }
        { name: 'PORT', value: '3978' }
        { name: 'DATABASE_URL', value: '@Microsoft.KeyVault(SecretUri=${databaseUrlSecret.properties.secretUri})' }
        // Standard_B1ms takes 35 user connections: the instances share them (a migration or a console
        // session keeps one spare).
        { name: 'DATABASE_POOL_SIZE', value: string(min(32, div(34, instanceCount))) }
        { name: 'MicrosoftAppId', value: botAppId }
        { name: 'MicrosoftAppPassword', value: '@Microsoft.KeyVault(SecretUri=${botPasswordSecret.properties.secretUri})' }
        { name: 'MicrosoftAppType', value: 'SingleTenant' }
        { name: 'MicrosoftAppTenantId', value: tenantId }
        { name: 'ALLOWED_TENANT_IDS', value: tenantId }
        { name: 'PUBLIC_BASE_URL', value: publicBaseUrl }
        { name: 'APP_DEVELOPER_NAME', value: appDeveloperName }
        { name: 'DEFAULT_LANGUAGE', value: 'sv' }
        { name: 'LOG_LEVEL', value: 'INFO' }
        { name: 'LOG_FORMAT', value: 'json' }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'GRAPH_MAILBOX', value: graphMailbox }
        { name: 'MEMBER_TENANTS', value: memberTenants }
        { name: 'MEETING_LOBBY_BYPASS', value: meetingLobbyBypass }
      ]
    }
  }
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: '${namePrefix}-azurebot'
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'S1' }
  properties: {
    displayName: 'Lärträff'
    endpoint: '${publicBaseUrl}/api/messages'
    msaAppId: botAppId
    msaAppType: 'SingleTenant'
    msaAppTenantId: tenantId
    disableLocalAuth: false
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

output botEndpoint string = '${publicBaseUrl}/api/messages'
output publicBaseUrl string = publicBaseUrl
output registryLoginServer string = registry.properties.loginServer
output keyVaultName string = vault.name
output postgresHost string = postgres.properties.fullyQualifiedDomainName
