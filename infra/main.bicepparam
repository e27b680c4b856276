// Example parameters: copy, fill in, and keep the secrets out of version control
// (pass them on the command line: -p botAppPassword=... postgresAdminPassword=...).
using './main.bicep'

param namePrefix = 'lartraff-nbk'
param location = 'swedencentral'
param botAppId = '00000000-0000-0000-0000-000000000000'
param botAppPassword = readEnvironmentVariable('LARTRAFF_BOT_APP_PASSWORD')
param postgresAdminPassword = readEnvironmentVariable('LARTRAFF_POSTGRES_PASSWORD')
param imageTag = '1.0.0'
param appDeveloperName = 'Norrbottens Kommuner'
param graphMailbox = 'lartraffar@kommun.se'
// The association's case: each member municipality's tenant and name (Entra admin center → Overview).
param memberTenants = '11111111-1111-4111-8111-111111111111=Luleå kommun;22222222-2222-4222-8222-222222222222=Piteå kommun'
