// The REST vocabulary of auth types: the original reference's lower-case names (used in
// responses), and the newer names some clients send, accepted as aliases in requests.
import type { AuthType } from '../catalog/model-provider-catalog';

export const REST_AUTH_TYPES = [
  'api_key',
  'aws_role',
  'aws_keys',
  'bedrock_api_key',
  'google_adc',
  'google_service_account',
  'google_impersonation',
] as const;

export type RestAuthType = (typeof REST_AUTH_TYPES)[number];

const ALIASES = {
  bearer_api_key: 'api_key',
  x_api_key: 'api_key',
  azure_api_key: 'api_key',
  aws_static_credentials: 'aws_keys',
  google_service_account_impersonation: 'google_impersonation',
} as const satisfies Record<string, RestAuthType>;

/** Every name a request may use for a connection's auth type; `oauth_passthrough` is refused with the service's explanation. */
export const REST_AUTH_TYPE_NAMES = [
  ...REST_AUTH_TYPES,
  ...(Object.keys(ALIASES) as (keyof typeof ALIASES)[]),
  'oauth_passthrough',
] as const;

export type RestAuthTypeName = (typeof REST_AUTH_TYPE_NAMES)[number];

const AUTH_TYPE_OF: Readonly<Record<RestAuthType | 'oauth_passthrough', AuthType>> = {
  api_key: 'API_KEY',
  aws_role: 'AWS_ROLE',
  aws_keys: 'AWS_KEYS',
  bedrock_api_key: 'BEDROCK_API_KEY',
  google_adc: 'GOOGLE_ADC',
  google_service_account: 'GOOGLE_SERVICE_ACCOUNT',
  google_impersonation: 'GOOGLE_IMPERSONATION',
  oauth_passthrough: 'OAUTH_PASSTHROUGH',
};

const NAME_OF: Readonly<Record<AuthType, RestAuthType | 'oauth_passthrough'>> = Object.fromEntries(
  Object.entries(AUTH_TYPE_OF).map(([name, authType]) => [authType, name]),
) as Record<AuthType, RestAuthType | 'oauth_passthrough'>;

/** The service's auth type for a request's name (its alias resolved). */
export function authTypeOfName(name: RestAuthTypeName): AuthType {
  return AUTH_TYPE_OF[name in ALIASES ? ALIASES[name as keyof typeof ALIASES] : (name as RestAuthType | 'oauth_passthrough')];
}

/** The name a response uses for an auth type. */
export function nameOfAuthType(authType: AuthType): RestAuthType | 'oauth_passthrough' {
  return NAME_OF[authType];
}
