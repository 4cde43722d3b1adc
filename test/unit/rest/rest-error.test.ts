// The REST door's error envelope: which status and type each service error becomes, and how a
// GraphQL input path becomes the REST field a client sent.
import {
  BadUserInputError,
  ConflictError,
  ForbiddenError,
  KmsUnavailableError,
  NotFoundError,
  StaleRevisionError,
  UnauthenticatedError,
} from '../../../src/errors/app-error';
import { authTypeOfName, nameOfAuthType, REST_AUTH_TYPE_NAMES } from '../../../src/rest/rest-auth-types';
import { RestRequestError, restErrorResponse, restParam } from '../../../src/rest/rest-error';

describe('restParam', () => {
  test.each([
    ['input.name', 'name'],
    ['input.baseUrl', 'base_url'],
    ['input.changeNote', 'change_note'],
    ['input.settings.region', 'settings.region'],
    ['input.settings.myCamelKey', 'settings.myCamelKey'],
    ['input.auth', 'auth_type'],
    ['input.auth.oauthPassthrough', 'auth_type'],
    ['input.auth.apiKey.apiKey', 'api_key'],
    ['input.auth.bedrockApiKey.apiKey', 'api_key'],
    ['input.auth.awsRole.iamRoleArn', 'credentials.iam_role_arn'],
    ['input.auth.awsRole.externalId', 'credentials.external_id'],
    ['input.auth.awsKeys.secretAccessKey', 'credentials.secret_access_key'],
    ['input.auth.googleServiceAccountKeyFile.private_key', 'credentials.private_key'],
    ['input.auth.googleImpersonation.targetPrincipal', 'credentials.target_service_account'],
    ['input.auth.googleImpersonation.delegates.2', 'credentials.delegates.2'],
    ['input.auth.googleAdc.quotaProjectId', 'settings.quota_project_id'],
    ['input.role.iamRoleArn', 'iam_role_arn'],
    ['input.credentialId', 'connection_id'],
    ['input.googleServiceAccountKeyFile.client_email', 'credentials.client_email'],
    ['input.googleImpersonation.targetPrincipal', 'target_service_account'],
    ['projectId', 'project_id'],
    ['region', 'region'],
    ['id', 'id'],
  ])('%s becomes %s', (field, param) => {
    expect(restParam(field)).toBe(param);
  });

  test.each([['input.expectedSecretVersion'], ['input']])('%s names no REST field', (field) => {
    expect(restParam(field)).toBeNull();
  });
});

describe('restErrorResponse', () => {
  test.each([
    [new BadUserInputError('input.name', 'name must not be blank.'), 400, 'invalid_request_error', 'BAD_USER_INPUT'],
    [new UnauthenticatedError(), 401, 'authentication_error', 'UNAUTHENTICATED'],
    [new ForbiddenError(), 403, 'permission_error', 'FORBIDDEN'],
    [new NotFoundError('Credential', 'x'), 404, 'not_found_error', 'NOT_FOUND'],
    [new ConflictError('taken'), 409, 'conflict_error', 'CONFLICT'],
    [new StaleRevisionError(), 412, 'conflict_error', 'CONFLICT'],
    [new KmsUnavailableError(), 503, 'service_unavailable_error', 'KMS_UNAVAILABLE'],
    [new RestRequestError(415, 'json only'), 415, 'invalid_request_error', 'BAD_USER_INPUT'],
    [new RestRequestError(413, 'too large'), 413, 'invalid_request_error', 'BAD_USER_INPUT'],
  ])('%p is %d %s', (error, status, type, code) => {
    const response = restErrorResponse(error);
    expect(response.status).toBe(status);
    expect(response.body.error.type).toBe(type);
    expect(response.body.error.code).toBe(code);
    expect(response.internal).toBe(false);
  });

  test('a bad input names its REST field as param', () => {
    expect(restErrorResponse(new BadUserInputError('input.auth.awsRole.iamRoleArn', 'bad')).body.error.param).toBe(
      'credentials.iam_role_arn',
    );
  });

  test('anything else is a 500 without its message, marked internal for the log', () => {
    const response = restErrorResponse(new Error('relation "credentials" does not exist at sk-secret-canary'));
    expect(response).toEqual({
      status: 500,
      body: { error: { message: 'Internal server error.', type: 'api_error', param: null, code: 'INTERNAL_SERVER_ERROR' } },
      internal: true,
    });
  });
});

describe('auth type names', () => {
  test.each([
    ['bearer_api_key', 'API_KEY'],
    ['x_api_key', 'API_KEY'],
    ['azure_api_key', 'API_KEY'],
    ['aws_static_credentials', 'AWS_KEYS'],
    ['google_service_account_impersonation', 'GOOGLE_IMPERSONATION'],
    ['aws_role', 'AWS_ROLE'],
    ['oauth_passthrough', 'OAUTH_PASSTHROUGH'],
  ] as const)('%s means %s', (name, authType) => {
    expect(authTypeOfName(name)).toBe(authType);
  });

  test('every name a request may use means some auth type, and responses use the canonical name', () => {
    for (const name of REST_AUTH_TYPE_NAMES) {
      const authType = authTypeOfName(name);
      expect(authTypeOfName(nameOfAuthType(authType))).toBe(authType);
    }
    expect(nameOfAuthType('GOOGLE_IMPERSONATION')).toBe('google_impersonation');
  });
});
