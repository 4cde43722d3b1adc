// Turns a CredentialAuthInput into what the vault stores: the auth type, the secret payload to
// seal, non-secret auth parameters and the API key's last four characters. Every check names
// the offending input path and never repeats the value it rejected.
import { createPrivateKey, randomBytes } from 'node:crypto';
import type { AuthType } from '../catalog/model-provider-catalog';
import { BadUserInputError } from '../errors/app-error';
import type { AuthParameters } from './credential.model';
import type {
  ApiKeyAuth,
  AwsKeysAuth,
  AwsRoleAuth,
  GoogleAdcAuth,
  GoogleImpersonationAuth,
  GoogleServiceAccountAuth,
  SecretPayload,
} from '../secrets/secret-payload';

/** An AWS role to store: without an external id, the vault generates one for the connection. */
export interface AwsRoleRequest {
  iamRoleArn: string;
  externalId?: string | null;
}

/** The @oneOf auth input (GraphQL's CredentialAuthInput), as the service receives it. */
export interface AuthRequest {
  apiKey?: ApiKeyAuth | null;
  awsRole?: AwsRoleRequest | null;
  awsKeys?: AwsKeysAuth | null;
  bedrockApiKey?: ApiKeyAuth | null;
  googleAdc?: GoogleAdcAuth | null;
  googleServiceAccount?: GoogleServiceAccountAuth | null;
  /** A service-account key file as Google issues it: its JSON text, or the parsed object. */
  googleServiceAccountKeyFile?: string | object | null;
  googleImpersonation?: GoogleImpersonationAuth | null;
  oauthPassthrough?: boolean | null;
}

export const AUTH_MEMBER_TYPES = {
  apiKey: 'API_KEY',
  awsRole: 'AWS_ROLE',
  awsKeys: 'AWS_KEYS',
  bedrockApiKey: 'BEDROCK_API_KEY',
  googleAdc: 'GOOGLE_ADC',
  googleServiceAccount: 'GOOGLE_SERVICE_ACCOUNT',
  googleServiceAccountKeyFile: 'GOOGLE_SERVICE_ACCOUNT',
  googleImpersonation: 'GOOGLE_IMPERSONATION',
  oauthPassthrough: 'OAUTH_PASSTHROUGH',
} as const satisfies Record<keyof AuthRequest, AuthType>;

export type AuthMember = keyof AuthRequest;

/** What a validated auth input becomes. */
export interface ResolvedAuth {
  authType: AuthType;
  /** Sealed as a whole; null when the auth type stores no key material (GOOGLE_ADC). */
  secretPayload: SecretPayload | null;
  /** Non-secret parameters kept in clear (GOOGLE_ADC's quota project). */
  authParameters: AuthParameters;
  keyLast4: string | null;
}

export const LIMITS = {
  apiKeyMaxBytes: 4096,
  apiKeyMinLength: 8,
  privateKeyMaxBytes: 16 * 1024,
  externalIdMin: 2,
  externalIdMax: 1224,
  sessionTokenMaxBytes: 8192,
} as const;

export const OAUTH_PASSTHROUGH_MESSAGE =
  'OAUTH_PASSTHROUGH is not a credential: Anthropic OAuth passthrough is configured on a provider (createProvider with oauthPassthrough: true).';

const ROLE_ARN = /^arn:aws[-a-z]*:iam::\d{12}:role\/[\w+=,.@\-/]{1,512}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]+$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const GOOGLE_PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/;
const SERVICE_ACCOUNT_EMAIL = /^[a-z0-9-]{1,64}@[a-z0-9.-]{1,255}\.gserviceaccount\.com$/;
const CLIENT_ID = /^\d{1,64}$/;
const PRIVATE_KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;
const SCOPE = /^https:\/\/www\.googleapis\.com\/auth\/[a-z0-9._-]+$/;
// Anything a header value cannot carry, or that hints at copy-paste damage.
const CONTROL_OR_SPACE = /[\s\u0000-\u001f\u007f]/;
// What keys and tokens are made of: printable ASCII without the space. Anything else (a
// look-alike letter, a zero-width space, a typographic dash) is damage from copying, and would
// be refused or mangled as an HTTP header value.
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

function requireText(field: string, value: unknown, label: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BadUserInputError(field, `${label} is required.`);
  }
  return value;
}

/** The single member given of a @oneOf input, enforced even when a caller bypasses graphql-js. */
export function exactlyOneOf<Key extends string>(
  input: Partial<Record<Key, unknown>>,
  members: readonly Key[],
  path: string,
  message: (count: number) => string,
): Key {
  const present = members.filter((member) => input[member] !== undefined && input[member] !== null);
  if (present.length !== 1) throw new BadUserInputError(path, message(present.length));
  return present[0];
}

/** The auth member chosen in a CredentialAuthInput. */
export function chosenMember(auth: AuthRequest, path: string): AuthMember {
  return exactlyOneOf(
    auth,
    Object.keys(AUTH_MEMBER_TYPES) as AuthMember[],
    path,
    (count) => `Exactly one auth member must be given; got ${count}.`,
  );
}

export interface ResolveAuthOptions {
  /** The token URL a service account's tokenUri must equal. */
  googleTokenUrl: string;
  /** The external id the vault generated for this connection before: kept across rotations. */
  generatedExternalId?: string;
}

export function resolveAuth(auth: AuthRequest, path: string, options: ResolveAuthOptions): ResolvedAuth {
  const member = chosenMember(auth, path);
  const field = `${path}.${member}`;
  switch (member) {
    case 'apiKey':
    case 'bedrockApiKey': {
      const apiKey = checkApiKey(`${field}.apiKey`, auth[member]?.apiKey);
      return { authType: AUTH_MEMBER_TYPES[member], secretPayload: { apiKey }, authParameters: {}, keyLast4: apiKey.slice(-4) };
    }
    case 'awsRole': {
      const given = auth.awsRole?.externalId;
      if (given !== undefined && given !== null) {
        const role = checkAwsRole(field, { iamRoleArn: auth.awsRole?.iamRoleArn ?? '', externalId: given });
        return { authType: 'AWS_ROLE', secretPayload: role, authParameters: {}, keyLast4: null };
      }
      // As AWS advises for third parties: an external id the customer cannot choose or guess,
      // one per connection, shown to admins (aws-trust-info) for the role's trust policy.
      const externalId = options.generatedExternalId ?? generateExternalId();
      const role = checkAwsRole(field, { iamRoleArn: auth.awsRole?.iamRoleArn ?? '', externalId });
      return { authType: 'AWS_ROLE', secretPayload: role, authParameters: { generatedExternalId: externalId }, keyLast4: null };
    }
    case 'awsKeys':
      return { authType: 'AWS_KEYS', secretPayload: checkAwsKeys(field, auth.awsKeys), authParameters: {}, keyLast4: null };
    case 'googleAdc': {
      const quotaProjectId = checkGoogleAdc(field, auth.googleAdc);
      return { authType: 'GOOGLE_ADC', secretPayload: null, authParameters: quotaProjectId ? { quotaProjectId } : {}, keyLast4: null };
    }
    case 'googleServiceAccount':
      return {
        authType: 'GOOGLE_SERVICE_ACCOUNT',
        secretPayload: checkServiceAccount(field, auth.googleServiceAccount, options.googleTokenUrl),
        authParameters: {},
        keyLast4: null,
      };
    case 'googleServiceAccountKeyFile':
      return {
        authType: 'GOOGLE_SERVICE_ACCOUNT',
        secretPayload: checkServiceAccount(
          field,
          serviceAccountOfKeyFile(field, auth.googleServiceAccountKeyFile),
          options.googleTokenUrl,
          SERVICE_ACCOUNT_KEY_FILE_NAMES,
        ),
        authParameters: {},
        keyLast4: null,
      };
    case 'googleImpersonation':
      return {
        authType: 'GOOGLE_IMPERSONATION',
        secretPayload: checkImpersonation(field, auth.googleImpersonation),
        authParameters: {},
        keyLast4: null,
      };
    case 'oauthPassthrough':
      throw new BadUserInputError(field, OAUTH_PASSTHROUGH_MESSAGE);
  }
}

/** 24 random bytes, base64url: 32 characters AWS accepts in an external id. */
function generateExternalId(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The fields a service account needs, from its key file as Google issues it (snake_case JSON,
 * as text or parsed). Everything else in the file (auth_uri, certificate URLs, universe_domain)
 * is dropped here and never stored. Messages name the file's field, never a value.
 */
export function serviceAccountOfKeyFile(field: string, keyFile: unknown): GoogleServiceAccountAuth {
  let parsed: unknown = keyFile;
  if (typeof keyFile === 'string') {
    try {
      parsed = JSON.parse(keyFile);
    } catch {
      // JSON.parse quotes the text around the error, which here is a private key.
      throw new BadUserInputError(field, 'The service-account key file is not valid JSON.');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadUserInputError(field, 'The service-account key file must be a JSON object.');
  }
  const file = parsed as Record<string, unknown>;
  if (file.type !== undefined && file.type !== 'service_account') {
    throw new BadUserInputError(`${field}.type`, 'The key file must be a service account key (type "service_account").');
  }
  const text = (key: string): string | undefined => {
    const value = file[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new BadUserInputError(`${field}.${key}`, `${key} must be a string.`);
    return value;
  };
  return {
    clientEmail: text('client_email') ?? '',
    privateKey: text('private_key') ?? '',
    privateKeyId: text('private_key_id') ?? '',
    projectId: text('project_id') ?? '',
    clientId: text('client_id') ?? null,
    tokenUri: text('token_uri') ?? null,
  };
}

function checkApiKey(field: string, value: unknown): string {
  const apiKey = requireText(field, value, 'The API key');
  if (byteLength(apiKey) > LIMITS.apiKeyMaxBytes) {
    throw new BadUserInputError(field, `The API key must be at most ${LIMITS.apiKeyMaxBytes} bytes.`);
  }
  if (CONTROL_OR_SPACE.test(apiKey)) {
    throw new BadUserInputError(field, 'The API key must not contain spaces, line breaks or control characters.');
  }
  if (!PRINTABLE_ASCII.test(apiKey)) {
    throw new BadUserInputError(
      field,
      'The API key must be printable ASCII (letters, digits and punctuation); other characters, such as look-alike letters or invisible ones, come from copying it.',
    );
  }
  // keyLast4 is shown to every reader; on a very short key it would give most of it away.
  if (apiKey.length < LIMITS.apiKeyMinLength) {
    throw new BadUserInputError(field, `The API key must be at least ${LIMITS.apiKeyMinLength} characters.`);
  }
  return apiKey;
}

/** A Google Cloud project id; `label` is the name the message gives it. */
export function checkGoogleProjectId(field: string, label: string, value: string): string {
  if (!GOOGLE_PROJECT_ID.test(value)) {
    throw new BadUserInputError(field, `${label} must be a Google Cloud project id (6-30 lower-case letters, digits or hyphens).`);
  }
  return value;
}

/** GOOGLE_ADC's only parameter, the optional quota project; null when none is given. */
export function checkGoogleAdc(field: string, adc: GoogleAdcAuth | null | undefined): string | null {
  const quotaProjectId = adc?.quotaProjectId ?? null;
  if (quotaProjectId !== null) checkGoogleProjectId(`${field}.quotaProjectId`, 'quotaProjectId', quotaProjectId);
  return quotaProjectId;
}

export function checkAwsRole(field: string, role: AwsRoleRequest | null | undefined): AwsRoleAuth {
  const iamRoleArn = requireText(`${field}.iamRoleArn`, role?.iamRoleArn, 'iamRoleArn');
  if (!ROLE_ARN.test(iamRoleArn)) {
    throw new BadUserInputError(`${field}.iamRoleArn`, 'iamRoleArn must look like arn:aws:iam::123456789012:role/name.');
  }
  const externalId = requireText(`${field}.externalId`, role?.externalId, 'externalId');
  if (externalId.length < LIMITS.externalIdMin || externalId.length > LIMITS.externalIdMax) {
    throw new BadUserInputError(`${field}.externalId`, `externalId must be ${LIMITS.externalIdMin} to ${LIMITS.externalIdMax} characters.`);
  }
  if (!EXTERNAL_ID.test(externalId)) {
    throw new BadUserInputError(`${field}.externalId`, 'externalId may contain only letters, digits and + = , . @ : / - _.');
  }
  return { iamRoleArn, externalId };
}

function checkAwsKeys(field: string, keys: AwsKeysAuth | null | undefined): AwsKeysAuth {
  const accessKeyId = requireText(`${field}.accessKeyId`, keys?.accessKeyId, 'accessKeyId');
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw new BadUserInputError(`${field}.accessKeyId`, 'accessKeyId must be 16 to 128 upper-case letters and digits.');
  }
  const secretAccessKey = requireText(`${field}.secretAccessKey`, keys?.secretAccessKey, 'secretAccessKey');
  if (byteLength(secretAccessKey) > 1024 || CONTROL_OR_SPACE.test(secretAccessKey)) {
    throw new BadUserInputError(
      `${field}.secretAccessKey`,
      'secretAccessKey must be at most 1024 characters without spaces or control characters.',
    );
  }
  if (!PRINTABLE_ASCII.test(secretAccessKey)) {
    throw new BadUserInputError(`${field}.secretAccessKey`, 'secretAccessKey must be printable ASCII, as AWS issues it.');
  }
  const payload: AwsKeysAuth = { accessKeyId, secretAccessKey };
  const sessionToken = keys?.sessionToken;
  if (sessionToken !== undefined && sessionToken !== null) {
    if (sessionToken === '' || byteLength(sessionToken) > LIMITS.sessionTokenMaxBytes || CONTROL_OR_SPACE.test(sessionToken)) {
      throw new BadUserInputError(
        `${field}.sessionToken`,
        `sessionToken must be 1 to ${LIMITS.sessionTokenMaxBytes} bytes without spaces or control characters.`,
      );
    }
    if (!PRINTABLE_ASCII.test(sessionToken)) {
      throw new BadUserInputError(`${field}.sessionToken`, 'sessionToken must be printable ASCII, as AWS issues it.');
    }
    payload.sessionToken = sessionToken;
  }
  return payload;
}

/** How a service account's fields are named where they came from: GraphQL's input, or Google's key file. */
export type ServiceAccountFieldNames = Readonly<Record<keyof GoogleServiceAccountAuth, string>>;

const SERVICE_ACCOUNT_INPUT_NAMES: ServiceAccountFieldNames = {
  clientEmail: 'clientEmail',
  privateKey: 'privateKey',
  privateKeyId: 'privateKeyId',
  projectId: 'projectId',
  clientId: 'clientId',
  tokenUri: 'tokenUri',
};

export const SERVICE_ACCOUNT_KEY_FILE_NAMES: ServiceAccountFieldNames = {
  clientEmail: 'client_email',
  privateKey: 'private_key',
  privateKeyId: 'private_key_id',
  projectId: 'project_id',
  clientId: 'client_id',
  tokenUri: 'token_uri',
};

export function checkServiceAccount(
  field: string,
  account: GoogleServiceAccountAuth | null | undefined,
  googleTokenUrl: string,
  names: ServiceAccountFieldNames = SERVICE_ACCOUNT_INPUT_NAMES,
): GoogleServiceAccountAuth {
  const at = (key: keyof GoogleServiceAccountAuth) => `${field}.${names[key]}`;
  const clientEmail = requireText(at('clientEmail'), account?.clientEmail, names.clientEmail);
  if (!EMAIL.test(clientEmail)) {
    throw new BadUserInputError(at('clientEmail'), `${names.clientEmail} must be the service account email address.`);
  }
  const privateKey = requireText(at('privateKey'), account?.privateKey, names.privateKey);
  checkPrivateKey(at('privateKey'), names.privateKey, privateKey);
  const privateKeyId = requireText(at('privateKeyId'), account?.privateKeyId, names.privateKeyId);
  if (!PRIVATE_KEY_ID.test(privateKeyId)) {
    throw new BadUserInputError(
      at('privateKeyId'),
      `${names.privateKeyId} must be the key id from the service account file (letters, digits, - and _).`,
    );
  }
  const projectId = requireText(at('projectId'), account?.projectId, names.projectId);
  checkGoogleProjectId(at('projectId'), names.projectId, projectId);
  const payload: GoogleServiceAccountAuth = { clientEmail, privateKey, privateKeyId, projectId };
  if (account?.clientId !== undefined && account.clientId !== null) {
    if (!CLIENT_ID.test(account.clientId)) {
      throw new BadUserInputError(at('clientId'), `${names.clientId} must be the numeric client id from the service account file.`);
    }
    payload.clientId = account.clientId;
  }
  if (account?.tokenUri !== undefined && account.tokenUri !== null) {
    if (account.tokenUri !== googleTokenUrl) {
      throw new BadUserInputError(at('tokenUri'), `${names.tokenUri} must be the configured token URL (${googleTokenUrl}) or omitted.`);
    }
    payload.tokenUri = account.tokenUri;
  }
  return payload;
}

function checkPrivateKey(field: string, label: string, privateKey: string): void {
  if (byteLength(privateKey) > LIMITS.privateKeyMaxBytes) {
    throw new BadUserInputError(field, `${label} must be at most ${LIMITS.privateKeyMaxBytes} bytes.`);
  }
  if (!/^-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----\s*$/.test(privateKey.trim() + '\n')) {
    throw new BadUserInputError(field, `${label} must be a PEM private key (-----BEGIN PRIVATE KEY----- ...).`);
  }
  try {
    const key = createPrivateKey({ key: privateKey, format: 'pem' });
    if (key.asymmetricKeyType !== 'rsa') {
      throw new BadUserInputError(field, `${label} must be an RSA key, as Google service accounts use.`);
    }
  } catch (error) {
    if (error instanceof BadUserInputError) throw error;
    // The parser's own message is not repeated: it can quote parts of the key.
    throw new BadUserInputError(field, `${label} is not a readable PEM private key.`);
  }
}

export function checkImpersonation(field: string, impersonation: GoogleImpersonationAuth | null | undefined): GoogleImpersonationAuth {
  const targetPrincipal = requireText(`${field}.targetPrincipal`, impersonation?.targetPrincipal, 'targetPrincipal');
  if (!SERVICE_ACCOUNT_EMAIL.test(targetPrincipal)) {
    throw new BadUserInputError(
      `${field}.targetPrincipal`,
      'targetPrincipal must be a service account email (name@project.iam.gserviceaccount.com).',
    );
  }
  const payload: GoogleImpersonationAuth = { targetPrincipal };
  const delegates = impersonation?.delegates;
  if (delegates !== undefined && delegates !== null) {
    if (delegates.length > 10) throw new BadUserInputError(`${field}.delegates`, 'At most 10 delegates are allowed.');
    delegates.forEach((delegate, index) => {
      if (!SERVICE_ACCOUNT_EMAIL.test(delegate)) {
        throw new BadUserInputError(`${field}.delegates.${index}`, 'Each delegate must be a service account email.');
      }
    });
    payload.delegates = delegates;
  }
  const scopes = impersonation?.scopes;
  if (scopes !== undefined && scopes !== null) {
    if (scopes.length === 0 || scopes.length > 20)
      throw new BadUserInputError(`${field}.scopes`, 'Give 1 to 20 scopes, or omit them for cloud-platform.');
    scopes.forEach((scope, index) => {
      if (!SCOPE.test(scope)) {
        throw new BadUserInputError(
          `${field}.scopes.${index}`,
          'Each scope must be a Google OAuth scope URL (https://www.googleapis.com/auth/...).',
        );
      }
    });
    payload.scopes = scopes;
  }
  return payload;
}
