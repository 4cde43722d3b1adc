// What each auth type seals: the shape of the JSON payload inside a sealed secret. The service
// checks input into these shapes before sealing; an opened payload is checked against them again
// before anyone uses it, so no code on the secret path needs to trust an unchecked cast.
import type { AuthType } from '../catalog/model-provider-catalog';
import { DecryptionError } from './aead';

export interface ApiKeyAuth {
  apiKey: string;
}
export interface AwsRoleAuth {
  iamRoleArn: string;
  externalId: string;
}
export interface AwsKeysAuth {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | null;
}
export interface GoogleAdcAuth {
  quotaProjectId?: string | null;
}
export interface GoogleServiceAccountAuth {
  clientEmail: string;
  privateKey: string;
  privateKeyId: string;
  projectId: string;
  clientId?: string | null;
  tokenUri?: string | null;
}
export interface GoogleImpersonationAuth {
  targetPrincipal: string;
  delegates?: string[] | null;
  scopes?: string[] | null;
}

/** The sealed payload of each auth type that stores key material. */
export interface SecretPayloads {
  API_KEY: ApiKeyAuth;
  BEDROCK_API_KEY: ApiKeyAuth;
  AWS_ROLE: AwsRoleAuth;
  AWS_KEYS: AwsKeysAuth;
  GOOGLE_SERVICE_ACCOUNT: GoogleServiceAccountAuth;
  GOOGLE_IMPERSONATION: GoogleImpersonationAuth;
}

/** Any sealed payload. */
export type SecretPayload = SecretPayloads[keyof SecretPayloads];

/** Auth types whose credential stores key material. */
export type SealedAuthType = keyof SecretPayloads & AuthType;

/** An auth type together with its payload, narrowed by `authType`. */
export type TypedSecret = { [Type in SealedAuthType]: { authType: Type; payload: SecretPayloads[Type] } }[SealedAuthType];

/** The fields each payload must carry as strings; optional fields are checked by type alone. */
const REQUIRED_STRINGS: { [Type in SealedAuthType]: readonly (keyof SecretPayloads[Type] & string)[] } = {
  API_KEY: ['apiKey'],
  BEDROCK_API_KEY: ['apiKey'],
  AWS_ROLE: ['iamRoleArn', 'externalId'],
  AWS_KEYS: ['accessKeyId', 'secretAccessKey'],
  GOOGLE_SERVICE_ACCOUNT: ['clientEmail', 'privateKey', 'privateKeyId', 'projectId'],
  GOOGLE_IMPERSONATION: ['targetPrincipal'],
};

export function isSealedAuthType(authType: AuthType): authType is SealedAuthType {
  return Object.hasOwn(REQUIRED_STRINGS, authType);
}

/**
 * An opened payload with its auth type, once it has the shape that auth type seals. A payload
 * that does not is a DecryptionError (the message names the field, never a value).
 */
export function typedSecret(authType: SealedAuthType, payload: object): TypedSecret {
  const fields = payload as Readonly<Record<string, unknown>>;
  for (const field of REQUIRED_STRINGS[authType]) {
    if (typeof fields[field] !== 'string') throw new DecryptionError(`the ${authType} payload has no ${field}`);
  }
  // Every required field was checked above, for exactly this auth type.
  return { authType, payload } as TypedSecret;
}
