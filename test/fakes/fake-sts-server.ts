// A fake AWS STS endpoint for tests: a plain node:http server on loopback speaking the STS Query API
// (form-encoded POST, or GET with a query string) and answering AssumeRole and GetSessionToken with the
// same XML STS sends. It checks what STS checks: a real SigV4 signature (canonical request, string to
// sign, HMAC key chain) by a key it knows — the configured caller, IAM user keys a test registers, or
// temporary credentials it issued itself (with their session token, until they expire) — parameter
// validation (ValidationError 400), each role's trust policy (external id or "trusts anyone";
// AccessDenied 403) and the rules on session credentials (no GetSessionToken with them, one-hour role
// chaining). It records every request, counts calls per Action, remembers every credential it issued
// and can be told to fail or never answer. The real STSClient talks to it.

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

/** The STS operations the fake implements. */
export type FakeStsAction = 'AssumeRole' | 'GetSessionToken';

/** A long-lived IAM user access key pair (AKIA…). */
export interface FakeStsKeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface FakeStsUserOptions {
  /** the IAM user owning the key (default `fake-user-<n>`); it appears in AccessDenied messages */
  userName?: string;
  /** the user's 12-digit account (default 111122223333) */
  account?: string;
}

/** Temporary credentials the fake issued (AssumeRole or GetSessionToken). */
export interface FakeStsIssued {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** the operation that minted them */
  action: FakeStsAction;
  /** when they expire (the Expiration STS answered, to the second) */
  expiration: Date;
  /** the access key id that signed the request that minted them */
  issuedTo: string;
}

/** One request received and what the fake answered. */
export interface FakeStsExchange {
  requestId: string;
  /** the Action parameter, if any */
  action?: string;
  /** the access key id named in the Authorization header, if one could be parsed */
  accessKeyId?: string;
  /** the HTTP status answered; undefined while (or, after hangNext, forever) unanswered */
  status?: number;
  /** the error code answered, if it was an error */
  code?: string;
}

export interface FakeStsFailure {
  /** HTTP status (default 503) */
  status?: number;
  /** STS error code (default ServiceUnavailable) */
  code?: string;
  message?: string;
  /** only calls of this Action fail (default 'any') */
  action?: FakeStsAction | 'any';
}

export interface FakeSts {
  endpoint: string;
  port: number;
  /** a long-lived key pair of the IAM user FAKE_STS_CALLER_ARN, registered from the start */
  caller: FakeStsKeyPair;
  addRole(role: FakeRole): void;
  /** Mints and registers a new active IAM user key pair (AKIA…) that may sign any call. */
  createUserKeys(options?: FakeStsUserOptions): FakeStsKeyPair;
  /** Registers a given IAM user key pair (the access key id must start with AKIA). */
  registerKeys(accessKeyId: string, secretAccessKey: string, options?: FakeStsUserOptions): void;
  /** Makes a user key Inactive (as `aws iam update-access-key --status Inactive`): calls signed with it get InvalidClientTokenId. */
  disableKeys(accessKeyId: string): void;
  /** Makes an Inactive user key Active again. */
  enableKeys(accessKeyId: string): void;
  /** Deletes a user key: calls signed with it get InvalidClientTokenId. */
  deleteKeys(accessKeyId: string): void;
  /** every AssumeRole and GetSessionToken received (signed correctly or not), parsed: Action, Version and the operation's parameters */
  requests: Array<Record<string, string>>;
  /** the entries of `requests` for one Action */
  requestsFor(action: FakeStsAction): Array<Record<string, string>>;
  /** requests received so far per Action parameter (counted even when they fail; unknown actions too) */
  calls: { AssumeRole: number; GetSessionToken: number; [action: string]: number };
  /** zeroes `calls` (the request and exchange logs stay) */
  resetCalls(): void;
  /** every request received, with the key that signed it and the status answered */
  exchanges: FakeStsExchange[];
  /** credentials it issued, by both operations (to scan for leaks) */
  issued: FakeStsIssued[];
  /** whether the fake issued temporary credentials with this access key id */
  isIssued(accessKeyId: string): boolean;
  /** Makes issued credentials expire now: calls signed with them then get ExpiredToken. */
  expireCredentials(accessKeyId: string): void;
  /** The next `count` calls (default 1; Infinity for a lasting outage) get an error answer (default 503 ServiceUnavailable). */
  failNext(count?: number, failure?: FakeStsFailure): void;
  /** The next `count` calls (default 1; Infinity allowed) are read and never answered, until close(). */
  hangNext(count?: number, options?: { action?: FakeStsAction | 'any' }): void;
  /** Drops pending failNext / hangNext injections. */
  clearFailures(): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/** The ARN of the IAM user that owns the fake's caller key (appears in AccessDenied messages). */
export const FAKE_STS_CALLER_ARN = 'arn:aws:iam::111122223333:user/credential-vault';

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const API_VERSION = '2011-06-15';
const ACTIONS: readonly string[] = ['AssumeRole', 'GetSessionToken'] satisfies FakeStsAction[];
const DEFAULT_ACCOUNT = '111122223333';
const MAX_BODY_BYTES = 1024 * 1024;
/** SigV4 requests are valid for 15 minutes either side of the server clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** A role session assuming another role (role chaining) gets at most one hour. */
const ROLE_CHAINING_MAX_SECONDS = 3600;
const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]*$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]*$/;
const SERIAL_NUMBER = /^[\w+=/:,.@-]*$/;
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const USER_ACCESS_KEY_ID = /^AKIA[A-Z0-9]{12,124}$/;
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const INVALID_TOKEN = 'The security token included in the request is invalid.';

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

/** The parts of a SigV4 Authorization header. */
interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  scopeRegion: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(req: IncomingMessage): ParsedAuthorization {
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
  return { accessKeyId, date, scopeRegion, service, terminator, signedHeaders: signedHeaderList.split(';'), signature };
}

/** Checks the date, scope and signature of a request whose key (and so secret) is already known. */
function verifySignature(req: IncomingMessage, body: Buffer, auth: ParsedAuthorization, secretAccessKey: string, region: string): void {
  const { date, scopeRegion, service, terminator, signedHeaders } = auth;
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
    secretAccessKey,
  });
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(auth.signature, 'hex');
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

/** DurationSeconds: an integer in [min, max], `fallback` when absent. */
function parseDuration(value: string | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) {
    throw new StsError(400, 'MalformedInput', `Value ${value} for parameter DurationSeconds is invalid.`);
  }
  const seconds = Number(value);
  if (seconds < min) throw validationError('durationSeconds', value, `Member must have value greater than or equal to ${min}`);
  if (seconds > max) throw validationError('durationSeconds', value, `Member must have value less than or equal to ${max}`);
  return seconds;
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
  const durationSeconds = parseDuration(duration, 900, 43200, 3600);
  return { roleArn, roleSessionName, externalId, durationSeconds };
}

interface GetSessionTokenParams {
  durationSeconds: number;
  serialNumber?: string;
  tokenCode?: string;
}

function validateGetSessionToken(params: Record<string, string>): GetSessionTokenParams {
  const { DurationSeconds: duration, SerialNumber: serialNumber, TokenCode: tokenCode } = params;
  const durationSeconds = parseDuration(duration, 900, 129600, 43200);
  if (serialNumber !== undefined) {
    if (serialNumber.length < 9) {
      throw validationError('serialNumber', serialNumber, 'Member must have length greater than or equal to 9');
    }
    if (serialNumber.length > 256) {
      throw validationError('serialNumber', serialNumber, 'Member must have length less than or equal to 256');
    }
    if (!SERIAL_NUMBER.test(serialNumber)) {
      throw validationError('serialNumber', serialNumber, 'Member must satisfy regular expression pattern: [\\w+=/:,.@-]*');
    }
  }
  if (tokenCode !== undefined) {
    if (tokenCode.length !== 6) {
      const constraint = tokenCode.length < 6 ? 'greater than or equal to 6' : 'less than or equal to 6';
      throw validationError('tokenCode', tokenCode, `Member must have length ${constraint}`);
    }
    if (!/^\d*$/.test(tokenCode)) throw validationError('tokenCode', tokenCode, 'Member must satisfy regular expression pattern: [\\d]*');
  }
  return { durationSeconds, serialNumber, tokenCode };
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

/** Who signed a request. */
interface Principal {
  accessKeyId: string;
  /** the IAM user's ARN, or the assumed role session's */
  arn: string;
  /** a long-lived user key, GetSessionToken credentials, or AssumeRole credentials */
  kind: 'user' | 'user-session' | 'role-session';
}

interface UserKey {
  secretAccessKey: string;
  userArn: string;
  active: boolean;
}

interface Session extends FakeStsIssued {
  arn: string;
  kind: 'user-session' | 'role-session';
}

interface PendingFailure {
  remaining: number;
  action: FakeStsAction | 'any';
  /** undefined: never answer */
  error?: StsError;
}

const DEFAULT_FAILURE_MESSAGES: Record<string, string> = {
  ServiceUnavailable: 'Service is unable to handle request.',
  Throttling: 'Rate exceeded',
  InternalFailure: 'The request processing has failed because of an unknown error, exception or failure.',
};

function failureCount(count: number): number {
  if (count !== Infinity && (!Number.isInteger(count) || count < 1)) {
    throw new Error(`fake STS: a failure count must be an integer ≥ 1 or Infinity, got ${count}`);
  }
  return count;
}

/** RFC 3339 to the second, as STS writes Expiration. */
const toStsTime = (epochMs: number): string => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

function credentialsXml(session: FakeStsIssued): string {
  return (
    `<Credentials>` +
    `<AccessKeyId>${session.accessKeyId}</AccessKeyId>` +
    `<SecretAccessKey>${xmlEscape(session.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${xmlEscape(session.sessionToken)}</SessionToken>` +
    `<Expiration>${toStsTime(session.expiration.getTime())}</Expiration>` +
    `</Credentials>`
  );
}

/** Starts the fake on 127.0.0.1 with a random caller key pair; `region` (default us-east-1) is the signing region it accepts. */
export async function startFakeSts(options: { region?: string } = {}): Promise<FakeSts> {
  const region = options.region ?? 'us-east-1';
  const caller = { accessKeyId: `AKIA${randomUpper(16)}`, secretAccessKey: randomSecret() };
  const roles = new Map<string, FakeRole & { roleId: string }>();
  const userKeys = new Map<string, UserKey>([
    [caller.accessKeyId, { secretAccessKey: caller.secretAccessKey, userArn: FAKE_STS_CALLER_ARN, active: true }],
  ]);
  const sessions = new Map<string, Session>();
  const requests: Array<Record<string, string>> = [];
  const calls: FakeSts['calls'] = { AssumeRole: 0, GetSessionToken: 0 };
  const exchanges: FakeStsExchange[] = [];
  const issued: FakeStsIssued[] = [];
  const failures: PendingFailure[] = [];
  let latencyMs = 0;
  let usersCreated = 0;

  function userKey(accessKeyId: string): UserKey {
    const key = userKeys.get(accessKeyId);
    if (!key) throw new Error(`fake STS: no user key ${accessKeyId}`);
    return key;
  }

  function registerKeys(accessKeyId: string, secretAccessKey: string, userOptions: FakeStsUserOptions = {}): void {
    if (!USER_ACCESS_KEY_ID.test(accessKeyId)) throw new Error(`fake STS: not a long-lived (AKIA…) access key id: ${accessKeyId}`);
    if (userKeys.has(accessKeyId) || sessions.has(accessKeyId)) throw new Error(`fake STS: access key ${accessKeyId} already exists`);
    if (secretAccessKey.length === 0) throw new Error('fake STS: empty secret access key');
    const userName = userOptions.userName ?? `fake-user-${(usersCreated += 1)}`;
    const account = userOptions.account ?? DEFAULT_ACCOUNT;
    if (!USER_NAME.test(userName)) throw new Error(`fake STS: not an IAM user name: ${userName}`);
    if (!/^\d{12}$/.test(account)) throw new Error(`fake STS: not an account id: ${account}`);
    userKeys.set(accessKeyId, { secretAccessKey, userArn: `arn:aws:iam::${account}:user/${userName}`, active: true });
  }

  /** The principal owning `accessKeyId`, given the session token the request carried. */
  function principalOf(accessKeyId: string, securityToken: string | undefined): { principal: Principal; secretAccessKey: string } {
    const invalid = new StsError(403, 'InvalidClientTokenId', INVALID_TOKEN);
    const user = userKeys.get(accessKeyId);
    if (user) {
      // An Inactive key is refused like an unknown one; so is a long-lived key sent with a session token.
      if (!user.active || securityToken !== undefined) throw invalid;
      return { principal: { accessKeyId, arn: user.userArn, kind: 'user' }, secretAccessKey: user.secretAccessKey };
    }
    const session = sessions.get(accessKeyId);
    if (session) {
      if (securityToken !== session.sessionToken) throw invalid;
      if (Date.now() >= session.expiration.getTime()) {
        throw new StsError(403, 'ExpiredToken', 'The security token included in the request is expired');
      }
      return { principal: { accessKeyId, arn: session.arn, kind: session.kind }, secretAccessKey: session.secretAccessKey };
    }
    throw invalid;
  }

  function issue(action: FakeStsAction, principal: Principal, durationSeconds: number, arn: string, kind: Session['kind']): FakeStsIssued {
    // STS answers the expiration to the second; keep the recorded one equal to what the client sees.
    const expiration = new Date(Math.floor((Date.now() + durationSeconds * 1000) / 1000) * 1000);
    const credentials: FakeStsIssued = {
      accessKeyId: `ASIA${randomUpper(16)}`,
      secretAccessKey: randomSecret(),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(180).toString('base64')}`,
      action,
      expiration,
      issuedTo: principal.accessKeyId,
    };
    issued.push(credentials);
    sessions.set(credentials.accessKeyId, { ...credentials, arn, kind });
    return credentials;
  }

  function assumeRole(principal: Principal, params: Record<string, string>): string {
    const input = validateAssumeRole(params);
    const role = roles.get(input.roleArn);
    const denied = new StsError(
      403,
      'AccessDenied',
      `User: ${principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`,
    );
    if (!role) throw denied;
    if (!role.trustsAnyone && role.externalId !== undefined && input.externalId !== role.externalId) throw denied;
    const maxSession = role.maxSessionDurationSeconds ?? 3600;
    if (input.durationSeconds > maxSession) {
      throw new StsError(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    if (principal.kind === 'role-session' && input.durationSeconds > ROLE_CHAINING_MAX_SECONDS) {
      throw new StsError(
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    const arn = ROLE_ARN.exec(role.arn);
    const [, account, roleName] = arn as unknown as [string, string, string];
    const sessionArn = `arn:aws:sts::${account}:assumed-role/${roleName}/${input.roleSessionName}`;
    const credentials = issue('AssumeRole', principal, input.durationSeconds, sessionArn, 'role-session');
    return (
      `<AssumeRoleResult>` +
      credentialsXml(credentials) +
      `<AssumedRoleUser>` +
      `<AssumedRoleId>${role.roleId}:${xmlEscape(input.roleSessionName)}</AssumedRoleId>` +
      `<Arn>${xmlEscape(sessionArn)}</Arn>` +
      `</AssumedRoleUser>` +
      `</AssumeRoleResult>`
    );
  }

  function getSessionToken(principal: Principal, params: Record<string, string>): string {
    const input = validateGetSessionToken(params);
    if (principal.kind !== 'user') {
      throw new StsError(403, 'AccessDenied', 'Cannot call GetSessionToken with session credentials');
    }
    if (input.serialNumber !== undefined || input.tokenCode !== undefined) {
      // The fake's users have no MFA device.
      throw new StsError(
        403,
        'AccessDenied',
        'MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.',
      );
    }
    const credentials = issue('GetSessionToken', principal, input.durationSeconds, principal.arn, 'user-session');
    return `<GetSessionTokenResult>${credentialsXml(credentials)}</GetSessionTokenResult>`;
  }

  /** The pending failure this call consumes, if any. */
  function takeFailure(action: string | undefined): PendingFailure | undefined {
    const index = failures.findIndex((f) => f.action === 'any' || f.action === action);
    if (index === -1) return undefined;
    const failure = failures[index];
    failure.remaining -= 1;
    if (failure.remaining <= 0) failures.splice(index, 1);
    return failure;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const exchange: FakeStsExchange = { requestId };
    exchanges.push(exchange);
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
      const action = params.Action;
      if (action !== undefined) {
        exchange.action = action;
        calls[action] = (calls[action] ?? 0) + 1;
        if (ACTIONS.includes(action)) requests.push({ ...params });
      }
      const failure = takeFailure(action);
      if (failure) {
        if (!failure.error) return; // never answered; close() ends the connection
        throw failure.error;
      }
      const auth = parseAuthorization(req);
      exchange.accessKeyId = auth.accessKeyId;
      const token = req.headers['x-amz-security-token'];
      const { principal, secretAccessKey } = principalOf(auth.accessKeyId, Array.isArray(token) ? token.join(',') : token);
      verifySignature(req, body, auth, secretAccessKey, region);
      if (params.Version !== API_VERSION) {
        throw new StsError(
          400,
          'InvalidAction',
          `Could not find operation ${action ?? ''} for version ${params.Version ?? 'NO_VERSION_SPECIFIED'}`,
        );
      }
      let result: string;
      if (action === 'AssumeRole') result = assumeRole(principal, params);
      else if (action === 'GetSessionToken') result = getSessionToken(principal, params);
      else throw new StsError(400, 'InvalidAction', `Could not find operation ${action ?? ''} for version ${API_VERSION}`);
      exchange.status = 200;
      sendXml(
        res,
        200,
        requestId,
        `<${action}Response xmlns="${STS_NS}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      );
    } catch (error) {
      const stsError =
        error instanceof StsError ? error : new StsError(500, 'InternalFailure', DEFAULT_FAILURE_MESSAGES.InternalFailure, 'Receiver');
      exchange.status = stsError.status;
      exchange.code = stsError.code;
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
    createUserKeys(userOptions?: FakeStsUserOptions): FakeStsKeyPair {
      const keys = { accessKeyId: `AKIA${randomUpper(16)}`, secretAccessKey: randomSecret() };
      registerKeys(keys.accessKeyId, keys.secretAccessKey, userOptions);
      return keys;
    },
    registerKeys,
    disableKeys(accessKeyId: string): void {
      userKey(accessKeyId).active = false;
    },
    enableKeys(accessKeyId: string): void {
      userKey(accessKeyId).active = true;
    },
    deleteKeys(accessKeyId: string): void {
      userKey(accessKeyId);
      userKeys.delete(accessKeyId);
    },
    requests,
    requestsFor: (action: FakeStsAction) => requests.filter((request) => request.Action === action),
    calls,
    resetCalls(): void {
      for (const action of Object.keys(calls)) calls[action] = 0;
    },
    exchanges,
    issued,
    isIssued: (accessKeyId: string) => sessions.has(accessKeyId),
    expireCredentials(accessKeyId: string): void {
      const session = sessions.get(accessKeyId);
      if (!session) throw new Error(`fake STS: it issued no credentials ${accessKeyId}`);
      session.expiration = new Date(Date.now() - 1000);
    },
    failNext(count = 1, failure: FakeStsFailure = {}): void {
      const status = failure.status ?? 503;
      const code = failure.code ?? 'ServiceUnavailable';
      const message = failure.message ?? DEFAULT_FAILURE_MESSAGES[code] ?? code;
      failures.push({
        remaining: failureCount(count),
        action: failure.action ?? 'any',
        error: new StsError(status, code, message, status >= 500 ? 'Receiver' : 'Sender'),
      });
    },
    hangNext(count = 1, hangOptions: { action?: FakeStsAction | 'any' } = {}): void {
      failures.push({ remaining: failureCount(count), action: hangOptions.action ?? 'any' });
    },
    clearFailures(): void {
      failures.length = 0;
    },
    setLatency(ms: number): void {
      latencyMs = Math.max(0, ms);
    },
    close: () => closeHttpServer(server),
  };
}
