// The user-assigned identity the app runs as: storage, Durable, telemetry and Event Grid dead-lettering all use it.

@description('Location of the identity.')
param location string

@description('Tags for the identity.')
param tags object

@description('Identity name.')
param name string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
