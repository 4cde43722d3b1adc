// Validates a Google identity the way the gateway will use it against Vertex AI: first an access
// token (a service-account JWT grant, this service's own Application Default Credentials, or ADC
// impersonating a target through IAM Credentials), then a countTokens call with that token.
// Every request goes through the outbound client; the token never leaves this module.
import { httpStatusOutcome, outboundFailureOutcome } from '../metrics/call-outcomes';
import { timedCloudCall } from '../metrics/metrics';
import { OutboundError } from './outbound';
import { GoogleAccessTokens, type GoogleAccessTokensOptions, type GoogleIdentity } from '../google/google-access-tokens';
import { defaultBaseUrl, VERTEX_LOCATION } from '../catalog/model-provider-catalog';
import { VERTEX_GLOBAL_ENDPOINT } from '../google/google-apis';
import { resultOf, runStep, type ValidationCheck, type ValidationResult } from './validation-result';

export const DEFAULT_VERTEX_MODEL = 'gemini-2.5-flash';
/** The model an anthropic_messages validation counts tokens for when none is named. */
export const DEFAULT_VERTEX_ANTHROPIC_MODEL = 'claude-sonnet-4-5';

export interface GoogleVertexValidatorOptions extends GoogleAccessTokensOptions {
  /** VERTEX_API_ENDPOINT; otherwise the catalog's Vertex base URL for the location. */
  vertexApiEndpoint?: string;
}

/** Which Vertex API the gateway will call: Gemini's generateContent family, or Claude's Messages API. */
export type VertexApiFamily = 'vertex_gemini' | 'anthropic_messages';

export interface VertexCall {
  projectId: string;
  location: string;
  model: string;
  /** Defaults to vertex_gemini. */
  apiFamily?: VertexApiFamily;
}

export class GoogleVertexValidator {
  private readonly tokens: GoogleAccessTokens;

  constructor(private readonly options: GoogleVertexValidatorOptions) {
    this.tokens = new GoogleAccessTokens(options);
  }

  async validate(auth: GoogleIdentity, call: VertexCall): Promise<ValidationResult> {
    const checks: ValidationCheck[] = [];
    const token = await runStep(
      checks,
      'token',
      async () => ({ ok: true, detail: describeTokenSource(auth), value: (await this.tokens.accessToken(auth)).token }),
      (error) => describeTokenFailure(auth, error),
    );
    if (token.ok && token.value) {
      const accessToken = token.value;
      await runStep(
        checks,
        'vertex',
        () => this.countTokens(accessToken, call, auth.type === 'GOOGLE_ADC' ? (auth.quotaProjectId ?? null) : null),
        (error) =>
          error instanceof OutboundError ? `could not call Vertex AI: ${error.message}` : 'could not call Vertex AI (unexpected error)',
      );
    }
    return resultOf(auth.type, checks);
  }

  private async countTokens(accessToken: string, call: VertexCall, quotaProjectId: string | null) {
    const base = this.options.vertexApiEndpoint ?? vertexEndpoint(call.location);
    const location = `${base.replace(/\/$/, '')}/v1/projects/${call.projectId}/locations/${call.location}`;
    // Claude on Vertex counts tokens through the Messages API's own endpoint, naming the model in the body.
    const { url, body } =
      call.apiFamily === 'anthropic_messages'
        ? {
            url: `${location}/publishers/anthropic/models/count-tokens:rawPredict`,
            body: { model: call.model, messages: [{ role: 'user', content: 'hello' }] },
          }
        : {
            url: `${location}/publishers/google/models/${call.model}:countTokens`,
            body: { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] },
          };
    const request = () =>
      this.options.outbound.request(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          ...(quotaProjectId ? { 'x-goog-user-project': quotaProjectId } : {}),
        },
        body: JSON.stringify(body),
      });
    const response = await timedCloudCall('google', 'vertex:countTokens', request, {
      ofResult: (answer) => httpStatusOutcome(answer.status),
      ofError: outboundFailureOutcome,
    });
    const where = `${call.model} in projects/${call.projectId}/locations/${call.location}`;
    if (response.status === 200) return { ok: true, detail: `countTokens answered for ${where}` };
    // Only the status is reported: the body is the remote's and is not echoed.
    const reasons: Record<number, string> = {
      400: 'Vertex AI refused the request (400): check the project, location and model',
      401: 'Vertex AI did not accept the access token (401)',
      403: `the identity may not use Vertex AI in project ${call.projectId} (403): it needs roles/aiplatform.user and the API enabled`,
      404: `Vertex AI does not know ${where} (404)`,
      429: 'Vertex AI is rate limiting this project (429)',
    };
    return { ok: false, detail: reasons[response.status] ?? `Vertex AI answered with HTTP ${response.status}` };
  }
}

/** The public Vertex AI endpoint of a location: the catalog's default base URL, or the global one. */
function vertexEndpoint(location: string): string {
  if (location === 'global') return VERTEX_GLOBAL_ENDPOINT;
  const result = defaultBaseUrl('VERTEX', { [VERTEX_LOCATION.setting]: location });
  if (!('url' in result) || result.url === null) throw new Error('no Vertex AI endpoint for this location');
  return result.url;
}

function describeTokenSource(auth: GoogleIdentity): string {
  switch (auth.type) {
    case 'GOOGLE_SERVICE_ACCOUNT':
      return `obtained an access token for ${auth.clientEmail}`;
    case 'GOOGLE_ADC':
      return "obtained an access token from this service's Application Default Credentials";
    case 'GOOGLE_IMPERSONATION':
      return `obtained an access token impersonating ${auth.targetPrincipal}`;
  }
}

/** Token failures as a sentence for the caller: OAuth error codes and HTTP status only. */
export function describeTokenFailure(auth: GoogleIdentity, error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (error instanceof OutboundError || cause instanceof OutboundError) {
    const outbound = (error instanceof OutboundError ? error : cause) as OutboundError;
    return `could not get an access token: ${outbound.message}`;
  }
  const response = (error as { response?: { status?: number; data?: unknown } } | null)?.response;
  const status = response?.status;
  const data = response?.data as { error?: unknown } | undefined;
  // The OAuth error code only (invalid_grant, ...): a short fixed word, never the description.
  const oauthError = typeof data?.error === 'string' && /^[a-z_]{1,40}$/.test(data.error) ? data.error : undefined;
  switch (auth.type) {
    case 'GOOGLE_SERVICE_ACCOUNT':
      if (oauthError === 'invalid_grant') {
        return 'Google refused the service-account key (invalid_grant): the key may be deleted or disabled, or the client email and key id do not match it';
      }
      return `Google did not issue a token for the service account${oauthError ? ` (${oauthError})` : status ? ` (HTTP ${status})` : ''}`;
    case 'GOOGLE_IMPERSONATION':
      if (status === 403) {
        return `this service's identity may not impersonate ${auth.targetPrincipal}: it needs roles/iam.serviceAccountTokenCreator on it (and on every delegate)`;
      }
      if (status === 404) return `the service account ${auth.targetPrincipal} does not exist`;
      return `could not impersonate ${auth.targetPrincipal}${status ? ` (HTTP ${status})` : ''}: this service's own credentials may be missing`;
    case 'GOOGLE_ADC':
      return `this service has no usable Application Default Credentials${oauthError ? ` (${oauthError})` : status ? ` (HTTP ${status})` : ''}`;
  }
}
