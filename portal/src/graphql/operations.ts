// Every operation the portal sends, typed by GraphQL Code Generator (portal/codegen.ts) from the
// served schema. Secrets only ever travel in variables, and no selection asks for one back.
import { graphql } from '../gql';

export const PortalEnvironmentQuery = graphql(`
  query PortalEnvironment {
    __schema {
      queryType {
        name
      }
    }
  }
`);

export const ModelProvidersQuery = graphql(`
  query ModelProviders {
    modelProviders {
      slug
      modelProvider
      displayName
      authTypes {
        authType
        inputMember
        fields {
          name
          label
          secret
          required
          multiline
          description
        }
      }
      oauthPassthrough
      defaultBaseUrl
      baseUrlRequired
      settingsKeys {
        key
        description
        required
      }
    }
  }
`);

export const CredentialsQuery = graphql(`
  query Credentials($first: Int!, $after: String, $modelProvider: ModelProvider) {
    credentials(first: $first, after: $after, modelProvider: $modelProvider) {
      totalCount
      edges {
        node {
          id
          name
          modelProvider
          authType
          keyLast4
          secretVersion
          secretRotatedAt
          lastUsedAt
          providers {
            id
            name
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const CredentialQuery = graphql(`
  query Credential($id: ID!) {
    credential(id: $id) {
      id
      name
      modelProvider
      authType
      baseUrl
      settings
      keyLast4
      storesKeyMaterial
      secretVersion
      secretRotatedAt
      lastUsedAt
      lastChangeNote
      providers {
        id
        name
      }
    }
  }
`);

export const CreateCredentialMutation = graphql(`
  mutation CreateCredential($input: CreateCredentialInput!) {
    createCredential(input: $input) {
      id
      name
      secretVersion
    }
  }
`);

export const UpdateCredentialMutation = graphql(`
  mutation UpdateCredential($id: ID!, $input: UpdateCredentialInput!) {
    updateCredential(id: $id, input: $input) {
      id
      name
      baseUrl
      settings
      keyLast4
      secretVersion
      secretRotatedAt
    }
  }
`);

export const DeleteCredentialMutation = graphql(`
  mutation DeleteCredential($id: ID!) {
    deleteCredential(id: $id)
  }
`);

export const ProvidersQuery = graphql(`
  query Providers($first: Int!, $after: String) {
    providers(first: $first, after: $after) {
      totalCount
      edges {
        node {
          id
          name
          modelProvider
          authType
          credential {
            id
            name
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const CompatibleCredentialsQuery = graphql(`
  query CompatibleCredentials($modelProvider: ModelProvider!) {
    credentials(first: 100, modelProvider: $modelProvider) {
      edges {
        node {
          id
          name
          authType
        }
      }
    }
  }
`);

export const CreateProviderMutation = graphql(`
  mutation CreateProvider($input: CreateProviderInput!) {
    createProvider(input: $input) {
      id
      name
    }
  }
`);

export const UpdateProviderMutation = graphql(`
  mutation UpdateProvider($id: ID!, $input: UpdateProviderInput!) {
    updateProvider(id: $id, input: $input) {
      id
      authType
      credential {
        id
        name
      }
    }
  }
`);

export const DeleteProviderMutation = graphql(`
  mutation DeleteProvider($id: ID!) {
    deleteProvider(id: $id)
  }
`);

export const ValidateAwsRoleMutation = graphql(`
  mutation ValidateAwsRole($credentialId: ID!, $region: String) {
    validateAwsRole(input: { credentialId: $credentialId }, region: $region) {
      ok
      message
      checks {
        name
        ok
        detail
        durationMs
      }
    }
  }
`);

export const ValidateGoogleVertexMutation = graphql(`
  mutation ValidateGoogleVertex($credentialId: ID!, $projectId: String, $location: String) {
    validateGoogleVertex(input: { credentialId: $credentialId }, projectId: $projectId, location: $location) {
      ok
      message
      checks {
        name
        ok
        detail
        durationMs
      }
    }
  }
`);
