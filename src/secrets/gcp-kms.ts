// Google Cloud KMS as the key service: every data key is wrapped and unwrapped by the
// CryptoKey named in KMS_KEY_NAME, with the same additional authenticated data as the secret
// itself and Google's end-to-end CRC32C integrity fields checked both ways. A KMS that cannot be
// reached or refuses is KMS_UNAVAILABLE; there is never a fallback to another key service.
// Unwrapped data keys are cached in memory under limits (data-key-cache.ts), keyed by the stored
// key id, wrapped key and AAD, so steady reads of the same secrets make no Decrypt per request.
import { credentials as grpcCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import { KmsUnavailableError } from '../errors/app-error';
import { CLOUD_PLATFORM_SCOPE } from '../google/google-apis';
import { grpcOutcome } from '../metrics/call-outcomes';
import { timedCloudCall } from '../metrics/metrics';
import { crc32c } from './crc32c';
import { DataKeyCache, type DataKeyCacheOptions, dataKeyCacheKey } from './data-key-cache';
import type { KeyService, WrappedDataKey } from './key-service';
import { KMS_CALL_TIMEOUT_DEFAULT_MS, parseKmsEndpoint } from './kms-endpoint';

export interface GcpKmsOptions {
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K */
  keyName: string;
  /** `host:port` (TLS, Google credentials) or `http://host:port` (plaintext, no credentials: emulators). */
  apiEndpoint?: string;
  /** Deadline of one call, in milliseconds (KMS_TIMEOUT_MS; default KMS_CALL_TIMEOUT_DEFAULT_MS). */
  callTimeoutMs?: number;
  /** Attempts for UNAVAILABLE and DEADLINE_EXCEEDED, the first included. */
  maxAttempts?: number;
  /** Backoff before the second attempt; doubles each time, with jitter. */
  initialBackoffMs?: number;
  /**
   * The in-memory cache of unwrapped data keys: on by default, with DATA_KEY_CACHE_DEFAULTS
   * (5 minutes, 10,000 uses, 1,000 entries) for any limit left out; `false` makes every unwrap a Decrypt.
   */
  dataKeyCache?: DataKeyCacheOptions | false;
}

/** A KMS answer whose integrity fields do not add up: the bytes may have been damaged in transit. */
export class KmsIntegrityError extends KmsUnavailableError {
  constructor(what: string) {
    super(`The key service's answer failed its integrity check (${what}); nothing was written.`);
  }
}

/** The deadline of one Cloud KMS call when KMS_TIMEOUT_MS is unset. */

const RETRYABLE = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED]);
const READINESS_CACHE_MS = 15_000;
const READINESS_PROBE_AAD = Buffer.from('credential-vault/v1/readiness-probe', 'utf8');

interface Int64Value {
  value?: string | number | { toString(): string } | null;
}

function crcField(data: Uint8Array): { value: string } {
  return { value: String(crc32c(data)) };
}

function crcMatches(field: Int64Value | null | undefined, data: Uint8Array): boolean {
  return field?.value !== undefined && field.value !== null && String(field.value) === String(crc32c(data));
}

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class GcpKmsKeyService implements KeyService {
  readonly name = 'gcp-kms';
  private client?: Promise<KeyManagementServiceClient>;
  private readonly callTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly dataKeys?: DataKeyCache;
  private readyUntil = 0;

  constructor(private readonly options: GcpKmsOptions) {
    this.callTimeoutMs = options.callTimeoutMs ?? KMS_CALL_TIMEOUT_DEFAULT_MS;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    if (options.dataKeyCache !== false) this.dataKeys = new DataKeyCache(options.dataKeyCache);
  }

  async wrap(dataKey: Buffer, aad: Buffer): Promise<WrappedDataKey> {
    const client = await this.kms();
    const [response] = await this.call('encrypt', () =>
      client.encrypt(
        {
          name: this.options.keyName,
          plaintext: dataKey,
          additionalAuthenticatedData: aad,
          plaintextCrc32c: crcField(dataKey),
          additionalAuthenticatedDataCrc32c: crcField(aad),
        },
        this.callOptions(),
      ),
    );
    if (!response.verifiedPlaintextCrc32c) throw new KmsIntegrityError('plaintext checksum not verified');
    if (!response.verifiedAdditionalAuthenticatedDataCrc32c) throw new KmsIntegrityError('AAD checksum not verified');
    const ciphertext = toBuffer(response.ciphertext);
    if (!crcMatches(response.ciphertextCrc32c, ciphertext)) throw new KmsIntegrityError('ciphertext checksum mismatch');
    if (!response.name || !response.name.startsWith(`${this.options.keyName}/cryptoKeyVersions/`)) {
      throw new KmsIntegrityError('unexpected key version');
    }
    return { keyId: response.name, wrappedKey: ciphertext };
  }

  /** A data key of its own for every caller (who may zero it): from the cache, or from one Decrypt per miss. */
  async unwrap(wrapped: WrappedDataKey, aad: Buffer): Promise<Buffer> {
    if (!wrapped.keyId.startsWith(`${this.options.keyName}/cryptoKeyVersions/`)) {
      throw new Error(`the data key was wrapped by ${wrapped.keyId}, not by the configured KMS key`);
    }
    if (!this.dataKeys) return this.decrypt(wrapped, aad);
    // Copies: what is decrypted must be exactly what the cache key was computed from, even if the caller reuses its buffers.
    const stored: WrappedDataKey = { keyId: wrapped.keyId, wrappedKey: Buffer.from(wrapped.wrappedKey) };
    const boundTo = Buffer.from(aad);
    return this.dataKeys.get(dataKeyCacheKey(stored.keyId, stored.wrappedKey, boundTo), () => this.decrypt(stored, boundTo));
  }

  private async decrypt(wrapped: WrappedDataKey, aad: Buffer): Promise<Buffer> {
    const client = await this.kms();
    const [response] = await this.call('decrypt', () =>
      client.decrypt(
        {
          name: this.options.keyName,
          ciphertext: wrapped.wrappedKey,
          additionalAuthenticatedData: aad,
          ciphertextCrc32c: crcField(wrapped.wrappedKey),
          additionalAuthenticatedDataCrc32c: crcField(aad),
        },
        this.callOptions(),
      ),
    );
    const plaintext = toBuffer(response.plaintext);
    if (!crcMatches(response.plaintextCrc32c, plaintext)) {
      plaintext.fill(0);
      throw new KmsIntegrityError('plaintext checksum mismatch');
    }
    return plaintext;
  }

  /** Ready when an Encrypt succeeds; a success is trusted for a few seconds to spare KMS quota. */
  async checkReady(): Promise<void> {
    if (Date.now() < this.readyUntil) return;
    await this.wrap(Buffer.alloc(32), READINESS_PROBE_AAD);
    this.readyUntil = Date.now() + READINESS_CACHE_MS;
  }

  /** KMS names the primary version in every Encrypt answer; IAM may not allow reading the key itself. */
  async primaryKeyId(): Promise<string> {
    const { keyId } = await this.wrap(Buffer.alloc(32), READINESS_PROBE_AAD);
    return keyId;
  }

  /** Zeroes and forgets the cached data keys, then closes the client. */
  async close(): Promise<void> {
    this.dataKeys?.clear();
    const client = await this.client?.catch(() => undefined);
    await client?.close();
  }

  /**
   * The client is built on first use, with its Google credentials loaded first: the library
   * would otherwise reject one promise per unused method when credentials are missing, which
   * Node treats as an unhandled rejection. Missing credentials are a KMS_UNAVAILABLE instead.
   */
  private kms(): Promise<KeyManagementServiceClient> {
    this.client ??= createClient(this.options.apiEndpoint).catch((error: unknown) => {
      this.client = undefined;
      throw new KmsUnavailableError(
        "The key service cannot be used: this service's Google credentials could not be loaded; nothing was written.",
        {
          cause: error,
        },
      );
    });
    return this.client;
  }

  private callOptions() {
    // One attempt per call: retries are ours (below), bounded and only for transient codes.
    return { timeout: this.callTimeoutMs, retry: null };
  }

  private async call<T>(operation: 'encrypt' | 'decrypt', attempt: () => Promise<T>): Promise<T> {
    for (let number = 1; ; number += 1) {
      try {
        // Every attempt is counted and timed (cloud_calls_total{service="kms"}).
        return await timedCloudCall('kms', operation, attempt, { ofError: grpcOutcome });
      } catch (error) {
        const code = grpcCode(error);
        if (code !== undefined && RETRYABLE.has(code) && number < this.maxAttempts) {
          const backoff = this.initialBackoffMs * 2 ** (number - 1);
          await sleep(backoff / 2 + Math.random() * backoff);
          continue;
        }
        this.readyUntil = 0;
        throw translate(operation, code, error);
      }
    }
  }
}

function translate(operation: string, code: number | undefined, error: unknown): Error {
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.RESOURCE_EXHAUSTED:
    case GrpcStatus.INTERNAL:
    case GrpcStatus.UNKNOWN:
      return new KmsUnavailableError(`The key service did not answer the ${operation} request; nothing was written.`, { cause: error });
    case GrpcStatus.PERMISSION_DENIED:
    case GrpcStatus.UNAUTHENTICATED:
      return new KmsUnavailableError(
        `The key service refused the ${operation} request: this service lacks roles/cloudkms.cryptoKeyEncrypterDecrypter on the key; nothing was written.`,
        { cause: error },
      );
    case GrpcStatus.NOT_FOUND:
    case GrpcStatus.FAILED_PRECONDITION:
      return new KmsUnavailableError(`The key service cannot use the configured key for ${operation} (missing, disabled or destroyed).`, {
        cause: error,
      });
    default:
      // INVALID_ARGUMENT on decrypt: wrong AAD or damaged ciphertext. Not the caller's fault,
      // and not an outage: an internal error that is logged, not described.
      return error instanceof Error ? error : new Error(`KMS ${operation} failed`);
  }
}

function toBuffer(value: Uint8Array | string | null | undefined): Buffer {
  if (value === null || value === undefined) return Buffer.alloc(0);
  return typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.from(value);
}

async function createClient(apiEndpoint: string | undefined): Promise<KeyManagementServiceClient> {
  const parsed = apiEndpoint === undefined ? undefined : parseKmsEndpoint(apiEndpoint);
  if (apiEndpoint !== undefined && !parsed) throw new Error('the KMS API endpoint must be host:port or http://host:port');
  const endpoint = parsed ? { apiEndpoint: parsed.host, port: parsed.port } : {};
  if (parsed?.plaintext) {
    // Emulators only (refused in production by loadConfig): no TLS, and an empty OAuth client so
    // the library neither looks for Google credentials nor sends any.
    return new KeyManagementServiceClient({ ...endpoint, sslCreds: grpcCredentials.createInsecure(), authClient: new OAuth2Client() });
  }
  const authClient = await new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] }).getClient();
  return new KeyManagementServiceClient({ ...endpoint, authClient });
}
