// A fake AWS STS endpoint for tests: a plain node:http server on loopback speaking the STS Query API
// (form-encoded POST, or GET with a query string) and answering AssumeRole with the same XML STS sends.
// It checks what STS checks: a real SigV4 signature (canonical request, string to sign, HMAC key chain)
// by the one caller access key it knows, parameter validation (ValidationError 400) and each role's
// trust policy (external id or "trusts anyone"; AccessDenied 403). The real STSClient talks to it.

import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeHttpServer, readBody, startHttpServer } from '../support/loopback';
import { sleep } from '../support/sleep';

export interface FakeRole {
  arn: string;
  externalId?: string;
  /** trusts any caller without an external id (the confused-deputy case) */
  trustsAnyone?: boolean;
  /** the role's MaxSessionDuration (AWS default 3600); a longer DurationSeconds is a ValidationError */
  maxSessionDurationSeconds?: number;
}

export interface FakeSts {
  endpoint: string;
  port: number;
  caller: { accessKeyId: string; secretAccessKey: string };
  addRole(role: FakeRole): void;
  /** every AssumeRole received, parsed (RoleArn, ExternalId?, RoleSessionName, DurationSeconds) */
  requests: Array<Record<string, string>>;
  /** credentials it issued (to scan for leaks) */
  issued: Array<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/** The ARN of the IAM user that owns the fake's caller key (appears in AccessDenied messages). */
export const FAKE_STS_CALLER_ARN = 'arn:aws:iam::111122223333:user/credential-vault';

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const API_VERSION = '2011-06-15';
const MAX_BODY_BYTES = 1024 * 1024;
/** SigV4 requests are valid for 15 minutes either side of the server clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]*$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]*$/;
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

class StsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

function randomUpper(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += UPPER_ALNUM[byte % UPPER_ALNUM.length];
  return out;
}

function randomSecret(): string {
  return randomBytes(30)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 40);
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters is percent-encoded. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

/** Canonical URI for non-S3 services: normalized path, each segment URI-encoded twice. */
function canonicalUri(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const path = `/${segments.map((s) => uriEncode(uriEncode(safeDecode(s)))).join('/')}`;
  return rawPath.endsWith('/') && path !== '/' ? `${path}/` : path;
}

function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  const pairs = rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const key = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      return [uriEncode(safeDecode(key)), uriEncode(safeDecode(value))] as const;
    })
    .filter(([key]) => key !== 'X-Amz-Signature');
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Everything SigV4 needs to (re)compute a signature. */
export interface SigV4Input {
  method: string;
  /** path and query exactly as on the wire, e.g. `/?Action=AssumeRole` */
  url: string;
  /** lower-cased header names */
  headers: Record<string, string | string[] | undefined>;
  signedHeaders: string[];
  payloadHash: string;
  amzDate: string;
  /** `<date>/<region>/<service>/aws4_request` */
  scope: string;
  secretAccessKey: string;
}

/** Computes a SigV4 signature (hex) — the same canonical request, string to sign and key chain as AWS. */
export function sigV4Signature(input: SigV4Input): string {
  const queryAt = input.url.indexOf('?');
  const rawPath = queryAt === -1 ? input.url : input.url.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? '' : input.url.slice(queryAt + 1);
  const canonicalHeaders = input.signedHeaders
    .map((name) => {
      const raw = input.headers[name];
      const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
      return `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalUri(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders,
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', input.amzDate, input.scope, sha256Hex(canonicalRequest)].join('\n');
  const [date, region, service, terminator] = input.scope.split('/');
  let key: Buffer = hmac(`AWS4${input.secretAccessKey}`, date ?? '');
  key = hmac(key, region ?? '');
  key = hmac(key, service ?? '');
  key = hmac(key, terminator ?? '');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** Parses `20150830T123600Z` (SigV4's basic ISO 8601 form). */
function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  caller: { accessKeyId: string; secretAccessKey: string },
  region: string,
): void {
  const authorization = req.headers.authorization;
  if (!authorization) {
    throw new StsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  }
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization.trim());
  if (!m) {
    throw new StsError(
      400,
      'IncompleteSignature',
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${authorization.split(' ')[0]}`,
    );
  }
  const [, credential, signedHeaderList, signature] = m as unknown as [string, string, string, string];
  const credentialParts = credential.split('/');
  if (credentialParts.length !== 5) {
    throw new StsError(400, 'IncompleteSignature', `Credential should have exactly 5 slash-delimited elements.`);
  }
  const [accessKeyId, date, scopeRegion, service, terminator] = credentialParts as [string, string, string, string, string];
  if (accessKeyId !== caller.accessKeyId) {
    throw new StsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) {
    throw new StsError(400, 'IncompleteSignature', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (!amzDate.startsWith(date)) {
    throw new StsError(
      403,
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (Math.abs(Date.now() - signedAt) > MAX_CLOCK_SKEW_MS) {
    throw new StsError(
      403,
      'SignatureDoesNotMatch',
      `Signature expired: ${amzDate} is now earlier than ${new Date(Date.now() - MAX_CLOCK_SKEW_MS).toISOString().replace(/[-:]|\.\d{3}/g, '')} (${new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')} - 15 min.)`,
    );
  }
  if (scopeRegion !== region) {
    throw new StsError(403, 'SignatureDoesNotMatch', `Credential should be scoped to a valid region. `);
  }
  if (service !== 'sts' || terminator !== 'aws4_request') {
    throw new StsError(403, 'SignatureDoesNotMatch', `Credential should be scoped to correct service: 'sts'. `);
  }
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) {
    throw new StsError(403, 'SignatureDoesNotMatch', `'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`);
  }
  // The payload hash is always computed from the body received: a declared x-amz-content-sha256 that
  // does not match it (or UNSIGNED-PAYLOAD, which STS does not support) fails the signature check.
  const bodyHash = sha256Hex(body);
  const expected = sigV4Signature({
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    signedHeaders,
    payloadHash: bodyHash,
    amzDate,
    scope: `${date}/${scopeRegion}/${service}/${terminator}`,
    secretAccessKey: caller.secretAccessKey,
  });
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(signature, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new StsError(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH);
  }
}

function validationError(field: string, value: string | undefined, constraint: string): StsError {
  const shown = value === undefined ? 'null' : `'${value}'`;
  return new StsError(
    400,
    'ValidationError',
    `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

interface AssumeRoleParams {
  roleArn: string;
  roleSessionName: string;
  externalId?: string;
  durationSeconds: number;
}

function validateAssumeRole(params: Record<string, string>): AssumeRoleParams {
  const { RoleArn: roleArn, RoleSessionName: roleSessionName, ExternalId: externalId, DurationSeconds: duration } = params;
  if (roleArn === undefined) throw validationError('roleArn', undefined, 'Member must not be null');
  if (roleArn.length < 20 || roleArn.length > 2048) {
    throw validationError('roleArn', roleArn, 'Member must have length greater than or equal to 20');
  }
  if (roleSessionName === undefined) throw validationError('roleSessionName', undefined, 'Member must not be null');
  if (roleSessionName.length < 2) {
    throw validationError('roleSessionName', roleSessionName, 'Member must have length greater than or equal to 2');
  }
  if (roleSessionName.length > 64) {
    throw validationError('roleSessionName', roleSessionName, 'Member must have length less than or equal to 64');
  }
  if (!SESSION_NAME.test(roleSessionName)) {
    throw validationError('roleSessionName', roleSessionName, 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
  }
  if (externalId !== undefined) {
    if (externalId.length < 2) throw validationError('externalId', externalId, 'Member must have length greater than or equal to 2');
    if (externalId.length > 1224) throw validationError('externalId', externalId, 'Member must have length less than or equal to 1224');
    if (!EXTERNAL_ID.test(externalId)) {
      throw validationError('externalId', externalId, 'Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*');
    }
  }
  let durationSeconds = 3600;
  if (duration !== undefined) {
    if (!/^-?\d+$/.test(duration)) {
      throw new StsError(400, 'MalformedInput', `Value ${duration} for parameter DurationSeconds is invalid.`);
    }
    durationSeconds = Number(duration);
    if (durationSeconds < 900) {
      throw validationError('durationSeconds', duration, 'Member must have value greater than or equal to 900');
    }
    if (durationSeconds > 43200) {
      throw validationError('durationSeconds', duration, 'Member must have value less than or equal to 43200');
    }
  }
  return { roleArn, roleSessionName, externalId, durationSeconds };
}

function sendXml(res: ServerResponse, status: number, requestId: string, xml: string): void {
  const body = `${xml}\n`;
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
  });
  res.end(body);
}

function errorXml(error: StsError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${STS_NS}">` +
    `<Error><Type>${error.type}</Type><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId>` +
    `</ErrorResponse>`
  );
}

/** Starts the fake on 127.0.0.1 with a random caller key pair; `region` (default us-east-1) is the signing region it accepts. */
export async function startFakeSts(options: { region?: string } = {}): Promise<FakeSts> {
  const region = options.region ?? 'us-east-1';
  const caller = { accessKeyId: `AKIA${randomUpper(16)}`, secretAccessKey: randomSecret() };
  const roles = new Map<string, FakeRole & { roleId: string }>();
  const requests: Array<Record<string, string>> = [];
  const issued: FakeSts['issued'] = [];
  let latencyMs = 0;

  function assumeRole(params: Record<string, string>): string {
    const input = validateAssumeRole(params);
    const role = roles.get(input.roleArn);
    const denied = new StsError(
      403,
      'AccessDenied',
      `User: ${FAKE_STS_CALLER_ARN} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`,
    );
    if (!role) throw denied;
    if (!role.trustsAnyone && role.externalId !== undefined && input.externalId !== role.externalId) throw denied;
    const maxSession = role.maxSessionDurationSeconds ?? 3600;
    if (input.durationSeconds > maxSession) {
      throw new StsError(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    const arn = ROLE_ARN.exec(role.arn);
    const [, account, roleName] = arn as unknown as [string, string, string];
    const credentials = {
      accessKeyId: `ASIA${randomUpper(16)}`,
      secretAccessKey: randomSecret(),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(180).toString('base64')}`,
    };
    issued.push(credentials);
    const expiration = new Date(Date.now() + input.durationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return (
      `<AssumeRoleResult>` +
      `<Credentials>` +
      `<AccessKeyId>${credentials.accessKeyId}</AccessKeyId>` +
      `<SecretAccessKey>${xmlEscape(credentials.secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${xmlEscape(credentials.sessionToken)}</SessionToken>` +
      `<Expiration>${expiration}</Expiration>` +
      `</Credentials>` +
      `<AssumedRoleUser>` +
      `<AssumedRoleId>${role.roleId}:${xmlEscape(input.roleSessionName)}</AssumedRoleId>` +
      `<Arn>arn:aws:sts::${account}:assumed-role/${xmlEscape(roleName)}/${xmlEscape(input.roleSessionName)}</Arn>` +
      `</AssumedRoleUser>` +
      `</AssumeRoleResult>`
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const body = await readBody(req, MAX_BODY_BYTES, () => new StsError(413, 'RequestEntityTooLarge', 'Request body too large'));
      if (latencyMs > 0) await sleep(latencyMs);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const params: Record<string, string> = {};
      for (const [k, v] of url.searchParams) params[k] = v;
      if (req.method === 'POST') {
        const contentType = String(req.headers['content-type'] ?? '');
        if (!contentType.startsWith('application/x-www-form-urlencoded')) {
          throw new StsError(400, 'InvalidAction', 'Could not find operation for the request (expected a form-encoded Query API request).');
        }
        for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = v;
      } else if (req.method !== 'GET') {
        throw new StsError(405, 'InvalidAction', `Method ${req.method} is not supported.`);
      }
      if (params.Action === 'AssumeRole') requests.push({ ...params });
      verifySignature(req, body, caller, region);
      if (params.Version !== API_VERSION) {
        throw new StsError(
          400,
          'InvalidAction',
          `Could not find operation ${params.Action ?? ''} for version ${params.Version ?? 'NO_VERSION_SPECIFIED'}`,
        );
      }
      if (params.Action !== 'AssumeRole') {
        throw new StsError(400, 'InvalidAction', `Could not find operation ${params.Action ?? ''} for version ${API_VERSION}`);
      }
      const result = assumeRole(params);
      sendXml(
        res,
        200,
        requestId,
        `<AssumeRoleResponse xmlns="${STS_NS}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    } catch (error) {
      const stsError =
        error instanceof StsError
          ? error
          : new StsError(
              500,
              'InternalFailure',
              'The request processing has failed because of an unknown error, exception or failure.',
              'Receiver',
            );
      if (!res.headersSent && !res.destroyed) sendXml(res, stsError.status, requestId, errorXml(stsError, requestId));
    }
  }

  const { server, port, base } = await startHttpServer((req, res) => void handle(req, res));

  return {
    endpoint: base,
    port,
    caller,
    addRole(role: FakeRole): void {
      if (!ROLE_ARN.test(role.arn)) throw new Error(`fake STS: not a role ARN: ${role.arn}`);
      roles.set(role.arn, { ...role, roleId: `AROA${randomUpper(17)}` });
    },
    requests,
    issued,
    setLatency(ms: number): void {
      latencyMs = Math.max(0, ms);
    },
    close: () => closeHttpServer(server),
  };
}
