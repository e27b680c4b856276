"""Microsoft Graph: the only package that imports msgraph-sdk and azure-identity."""
