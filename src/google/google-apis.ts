// Google's public API endpoints and the one OAuth scope this service asks for, named once for
// the configuration defaults, the Cloud KMS client and the Vertex validation.

/** Where service-account JWT grants are exchanged for access tokens (GOOGLE_OAUTH_TOKEN_URL's default). */
export const GOOGLE_OAUTH_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** IAM Credentials, for impersonation (generateAccessToken); GOOGLE_IAM_CREDENTIALS_ENDPOINT's default. */
export const GOOGLE_IAM_CREDENTIALS_ENDPOINT = 'https://iamcredentials.googleapis.com';

/** The scope of every token this service obtains: Cloud KMS and Vertex AI both accept it. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Vertex AI's endpoint for the `global` location, which has no regional host. */
export const VERTEX_GLOBAL_ENDPOINT = 'https://aiplatform.googleapis.com';
