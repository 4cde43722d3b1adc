// A fake Google Cloud KMS (KeyManagementService) gRPC server for tests: serves Encrypt and Decrypt
// on loopback with real AES-256-GCM under per-version random keys, checks CRC32C fields the way KMS
// does, and lets a test rotate or destroy versions, inject failures, latency and corrupt checksums.
// Built from the protos shipped in @google-cloud/kms so the real KeyManagementServiceClient talks to it.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** KMS limits: plaintext and additional authenticated data are at most 64 KiB each. */
const MAX_PLAINTEXT_BYTES = 64 * 1024;
const MAX_AAD_BYTES = 64 * 1024;

/**
 * Ciphertext blob: magic (4) | format (1) | key id (8) | version number (uint32 BE) | nonce (12) | ct | tag (16).
 * The key id is random per fake CryptoKey, so another key's ciphertext fails as "Decryption failed",
 * as it does in KMS, instead of being read as one of this key's versions.
 */
const MAGIC = Buffer.from('FKMS', 'ascii');
const FORMAT = 1;
const KEY_ID_BYTES = 8;
const KEY_ID_OFFSET = MAGIC.length + 1;
const VERSION_OFFSET = KEY_ID_OFFSET + KEY_ID_BYTES;
const HEADER_BYTES = VERSION_OFFSET + 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_CIPHERTEXT_BYTES = HEADER_BYTES + NONCE_BYTES + MAX_PLAINTEXT_BYTES + TAG_BYTES;

const DEFAULT_KEY_NAME = 'projects/test/locations/global/keyRings/vault/cryptoKeys/secrets';

export type FakeKmsMethod = 'encrypt' | 'decrypt';
export type CorruptibleField =
  'ciphertextCrc32c' | 'plaintextCrc32c' | 'verifiedPlaintextCrc32c' | 'verifiedAdditionalAuthenticatedDataCrc32c';

export interface FailNextOptions {
  /** How many calls fail (default 1). */
  count?: number;
  /** Which calls count toward it (default 'any'). */
  method?: FakeKmsMethod | 'any';
  /** The status details the client sees (default names the injected code). */
  message?: string;
}

export interface FakeKms {
  port: number;
  /**
   * The KMS_API_ENDPOINT that reaches it: `http://127.0.0.1:<port>` (plaintext, as for an emulator),
   * or `localhost:<port>` when it serves TLS (the form Cloud KMS itself is reached by).
   */
  endpoint: string;
  /** The CryptoKey resource name it serves, e.g. projects/test/locations/global/keyRings/vault/cryptoKeys/secrets */
  keyName: string;
  /** Current primary CryptoKeyVersion name (`${keyName}/cryptoKeyVersions/1` initially). */
  primaryVersion(): string;
  /** Adds a version and makes it primary; returns its name. Old versions still decrypt. */
  rotate(): string;
  /** Destroys a version: decrypt of ciphertexts made with it then fails with FAILED_PRECONDITION. */
  destroyVersion(versionName: string): void;
  /** The next `count` calls (of method 'encrypt' | 'decrypt' | 'any') fail with this gRPC status code. */
  failNext(code: grpc.status, options?: FailNextOptions): void;
  /** Every call waits this long before answering (to trigger client deadlines). */
  setLatency(ms: number): void;
  /**
   * The next successful answer carrying the field gets it wrong: 'ciphertextCrc32c' (encrypt),
   * 'plaintextCrc32c' (decrypt), or a false 'verifiedPlaintextCrc32c' /
   * 'verifiedAdditionalAuthenticatedDataCrc32c' (encrypt).
   */
  corruptNext(field: CorruptibleField): void;
  /** Calls received so far, by method (counted even when they fail). */
  calls: { encrypt: number; decrypt: number };
  resetCalls(): void;
  close(): Promise<void>;
}

export interface StartFakeKmsOptions {
  /** The CryptoKey resource name to serve (default projects/test/locations/global/keyRings/vault/cryptoKeys/secrets). */
  keyName?: string;
  /** Serve TLS with this certificate (PEM, for the name `localhost`) and its private key instead of plaintext. */
  tls?: { certificate: string; privateKey: string };
}

/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit. Deliberately its own
 * implementation rather than the one in src/, so the fake checks the service's checksums independently.
 */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i += 1) {
    crc ^= data[i];
    for (let bit = 0; bit < 8; bit += 1) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// Message shapes as @grpc/proto-loader hands them over with the options in loadService():
// field names as in protos.json (camelCase), bytes as Buffer, int64 as decimal strings, unset
// fields absent (defaults: false), so a present Int64Value means the client sent the checksum.
interface Int64Value {
  value?: string;
}
interface EncryptRequest {
  name?: string;
  plaintext?: Buffer;
  additionalAuthenticatedData?: Buffer;
  plaintextCrc32c?: Int64Value | null;
  additionalAuthenticatedDataCrc32c?: Int64Value | null;
}
interface EncryptResponse {
  name: string;
  ciphertext: Buffer;
  ciphertextCrc32c: Int64Value;
  verifiedPlaintextCrc32c: boolean;
  verifiedAdditionalAuthenticatedDataCrc32c: boolean;
  protectionLevel: 'SOFTWARE';
}
interface DecryptRequest {
  name?: string;
  ciphertext?: Buffer;
  additionalAuthenticatedData?: Buffer;
  ciphertextCrc32c?: Int64Value | null;
  additionalAuthenticatedDataCrc32c?: Int64Value | null;
}
interface DecryptResponse {
  plaintext: Buffer;
  plaintextCrc32c: Int64Value;
  usedPrimary: boolean;
  protectionLevel: 'SOFTWARE';
}

interface KeyVersion {
  number: number;
  key: Buffer;
  state: 'ENABLED' | 'DESTROYED';
}

interface FailureRule {
  code: grpc.status;
  remaining: number;
  method: FakeKmsMethod | 'any';
  message?: string;
}

/** A gRPC error as a unary handler hands it to its callback. */
class KmsError extends Error implements Partial<grpc.StatusObject> {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

let serviceDefinition: grpc.ServiceDefinition | undefined;

/** Loads the KeyManagementService definition once per process (protos.json is large). */
function loadService(): grpc.ServiceDefinition {
  if (serviceDefinition) return serviceDefinition;
  // require, not import: a typed import of this large JSON would slow down type checking.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const json = require('@google-cloud/kms/build/protos/protos.json') as Parameters<typeof protoLoader.fromJSON>[0];
  const definition = protoLoader.fromJSON(json, {
    keepCase: true, // protos.json already spells fields in camelCase, as the client's protobufjs does
    longs: String,
    enums: String,
    bytes: Buffer,
    defaults: false,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { kms: { v1: { KeyManagementService: grpc.ServiceClientConstructor } } } };
  };
  serviceDefinition = loaded.google.cloud.kms.v1.KeyManagementService.service;
  return serviceDefinition;
}

/** The received checksum, or undefined when the client did not send the Int64Value wrapper. */
function sentChecksum(field: Int64Value | null | undefined): bigint | undefined {
  if (field === undefined || field === null) return undefined;
  return BigInt(field.value ?? '0'); // proto3 leaves out a zero inner value
}

function checkChecksum(fieldName: string, dataFieldName: string, sent: bigint | undefined, data: Buffer): void {
  if (sent !== undefined && sent !== BigInt(crc32c(data))) {
    throw new KmsError(
      grpc.status.INVALID_ARGUMENT,
      `The checksum in field ${fieldName} did not match the data in field ${dataFieldName}.`,
    );
  }
}

export async function startFakeKms(options: StartFakeKmsOptions = {}): Promise<FakeKms> {
  const keyName = options.keyName ?? DEFAULT_KEY_NAME;
  const keyId = randomBytes(KEY_ID_BYTES);
  const versions = new Map<number, KeyVersion>();
  let primary = 0;
  let latencyMs = 0;
  let failures: FailureRule[] = [];
  const corruptions = new Set<CorruptibleField>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  const calls = { encrypt: 0, decrypt: 0 };

  const versionName = (number: number): string => `${keyName}/cryptoKeyVersions/${number}`;

  const addVersion = (): string => {
    const number = versions.size + 1;
    versions.set(number, { number, key: randomBytes(32), state: 'ENABLED' });
    primary = number;
    return versionName(number);
  };
  addVersion();

  /** Parses `${keyName}/cryptoKeyVersions/<n>` into n, or undefined for any other name. */
  const versionNumberOf = (name: string): number | undefined => {
    const prefix = `${keyName}/cryptoKeyVersions/`;
    if (!name.startsWith(prefix)) return undefined;
    const rest = name.slice(prefix.length);
    return /^[1-9][0-9]*$/.test(rest) ? Number(rest) : undefined;
  };

  const notFound = (name: string): KmsError => new KmsError(grpc.status.NOT_FOUND, `Resource '${name}' was not found.`);

  /** INVALID_ARGUMENT, as KMS words it, for an empty `field` (when it must not be) or one over `maxBytes`. */
  const checkSize = (field: string, value: Uint8Array, maxBytes: number, options: { nonEmpty: boolean }): void => {
    if (options.nonEmpty && value.length === 0) {
      throw new KmsError(grpc.status.INVALID_ARGUMENT, `The request must contain a non-empty ${field}.`);
    }
    if (value.length > maxBytes) {
      throw new KmsError(grpc.status.INVALID_ARGUMENT, `The ${field} must be at most ${maxBytes} bytes; got ${value.length}.`);
    }
  };

  const requireEnabled = (version: KeyVersion): void => {
    if (version.state !== 'ENABLED') {
      throw new KmsError(
        grpc.status.FAILED_PRECONDITION,
        `${versionName(version.number)} is not enabled, current state is: ${version.state}.`,
      );
    }
  };

  /** Header bytes double as GCM additional data, together with the CryptoKey name and the caller's AAD. */
  const gcmAad = (header: Buffer, aad: Buffer): Buffer => {
    const name = Buffer.from(keyName, 'utf8');
    const nameLength = Buffer.alloc(4);
    nameLength.writeUInt32BE(name.length);
    return Buffer.concat([header, nameLength, name, aad]);
  };

  const encrypt = (request: EncryptRequest): EncryptResponse => {
    const name = request.name ?? '';
    const number = name === keyName ? primary : versionNumberOf(name);
    const version = number === undefined ? undefined : versions.get(number);
    if (!version) throw notFound(name);
    const plaintext = request.plaintext ?? Buffer.alloc(0);
    const aad = request.additionalAuthenticatedData ?? Buffer.alloc(0);
    checkSize('plaintext', plaintext, MAX_PLAINTEXT_BYTES, { nonEmpty: true });
    checkSize('additional authenticated data', aad, MAX_AAD_BYTES, { nonEmpty: false });
    const plaintextCrc = sentChecksum(request.plaintextCrc32c);
    const aadCrc = sentChecksum(request.additionalAuthenticatedDataCrc32c);
    checkChecksum('plaintext_crc32c', 'plaintext', plaintextCrc, plaintext);
    checkChecksum('additional_authenticated_data_crc32c', 'additional_authenticated_data', aadCrc, aad);
    requireEnabled(version);

    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt8(FORMAT, MAGIC.length);
    keyId.copy(header, KEY_ID_OFFSET);
    header.writeUInt32BE(version.number, VERSION_OFFSET);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', version.key, nonce);
    cipher.setAAD(gcmAad(header, aad));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const ciphertext = Buffer.concat([header, nonce, sealed, cipher.getAuthTag()]);

    let ciphertextCrc = crc32c(ciphertext);
    let verifiedPlaintext = plaintextCrc !== undefined;
    let verifiedAad = aadCrc !== undefined;
    if (corruptions.delete('ciphertextCrc32c')) ciphertextCrc = (ciphertextCrc ^ 0x00000001) >>> 0;
    if (corruptions.delete('verifiedPlaintextCrc32c')) verifiedPlaintext = false;
    if (corruptions.delete('verifiedAdditionalAuthenticatedDataCrc32c')) verifiedAad = false;
    return {
      name: versionName(version.number),
      ciphertext,
      ciphertextCrc32c: { value: String(ciphertextCrc) },
      verifiedPlaintextCrc32c: verifiedPlaintext,
      verifiedAdditionalAuthenticatedDataCrc32c: verifiedAad,
      protectionLevel: 'SOFTWARE',
    };
  };

  const decrypt = (request: DecryptRequest): DecryptResponse => {
    const name = request.name ?? '';
    if (name !== keyName) {
      if (versionNumberOf(name) !== undefined) {
        throw new KmsError(grpc.status.INVALID_ARGUMENT, `Decrypt takes a CryptoKey name, not a CryptoKeyVersion name: ${name}`);
      }
      throw notFound(name);
    }
    const ciphertext = request.ciphertext ?? Buffer.alloc(0);
    const aad = request.additionalAuthenticatedData ?? Buffer.alloc(0);
    checkSize('ciphertext', ciphertext, MAX_CIPHERTEXT_BYTES, { nonEmpty: true });
    checkSize('additional authenticated data', aad, MAX_AAD_BYTES, { nonEmpty: false });
    checkChecksum('ciphertext_crc32c', 'ciphertext', sentChecksum(request.ciphertextCrc32c), ciphertext);
    checkChecksum(
      'additional_authenticated_data_crc32c',
      'additional_authenticated_data',
      sentChecksum(request.additionalAuthenticatedDataCrc32c),
      aad,
    );

    const decryptionFailed = new KmsError(
      grpc.status.INVALID_ARGUMENT,
      "Decryption failed: verify that 'name' refers to the correct CryptoKey.",
    );
    if (
      ciphertext.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES ||
      !ciphertext.subarray(0, MAGIC.length).equals(MAGIC) ||
      ciphertext.readUInt8(MAGIC.length) !== FORMAT ||
      !ciphertext.subarray(KEY_ID_OFFSET, KEY_ID_OFFSET + KEY_ID_BYTES).equals(keyId)
    ) {
      throw decryptionFailed;
    }
    const version = versions.get(ciphertext.readUInt32BE(VERSION_OFFSET));
    if (!version) throw decryptionFailed;
    requireEnabled(version);
    const header = ciphertext.subarray(0, HEADER_BYTES);
    const nonce = ciphertext.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
    const sealed = ciphertext.subarray(HEADER_BYTES + NONCE_BYTES, ciphertext.length - TAG_BYTES);
    const tag = ciphertext.subarray(ciphertext.length - TAG_BYTES);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', version.key, nonce);
      decipher.setAAD(gcmAad(header, aad));
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(sealed), decipher.final()]);
    } catch {
      throw decryptionFailed;
    }

    let plaintextCrc = crc32c(plaintext);
    if (corruptions.delete('plaintextCrc32c')) plaintextCrc = (plaintextCrc ^ 0x00000001) >>> 0;
    return {
      plaintext,
      plaintextCrc32c: { value: String(plaintextCrc) },
      usedPrimary: version.number === primary,
      protectionLevel: 'SOFTWARE',
    };
  };

  /** Consumes one injected failure matching the method, if any. */
  const takeFailure = (method: FakeKmsMethod): KmsError | undefined => {
    const rule = failures.find((candidate) => candidate.method === 'any' || candidate.method === method);
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) failures = failures.filter((candidate) => candidate !== rule);
    return new KmsError(rule.code, rule.message ?? `fake KMS: injected ${grpc.status[rule.code]} for ${method}`);
  };

  /** Wraps a request handler: counts the call, applies latency, injected failures, and maps errors. */
  const unary =
    <Request, Response>(method: FakeKmsMethod, handle: (request: Request) => Response): grpc.handleUnaryCall<Request, Response> =>
    (call, callback) => {
      calls[method] += 1;
      const failure = takeFailure(method);
      const answer = (): void => {
        if (failure) {
          callback(failure);
          return;
        }
        try {
          callback(null, handle(call.request));
        } catch (error) {
          if (error instanceof KmsError) callback(error);
          else callback(new KmsError(grpc.status.INTERNAL, `fake KMS: ${String(error)}`));
        }
      };
      if (latencyMs <= 0) {
        answer();
        return;
      }
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        if (call.cancelled) return; // the client gave up (deadline); nobody is listening
        answer();
      }, latencyMs);
      pendingTimers.add(timer);
    };

  const server = new grpc.Server();
  server.addService(loadService(), {
    Encrypt: unary<EncryptRequest, EncryptResponse>('encrypt', encrypt),
    Decrypt: unary<DecryptRequest, DecryptResponse>('decrypt', decrypt),
  });
  const port = await new Promise<number>((resolve, reject) => {
    const credentials = options.tls
      ? grpc.ServerCredentials.createSsl(null, [
          { cert_chain: Buffer.from(options.tls.certificate), private_key: Buffer.from(options.tls.privateKey) },
        ])
      : grpc.ServerCredentials.createInsecure();
    server.bindAsync('127.0.0.1:0', credentials, (error, boundPort) => (error ? reject(error) : resolve(boundPort)));
  });

  return {
    port,
    endpoint: options.tls ? `localhost:${port}` : `http://127.0.0.1:${port}`,
    keyName,
    primaryVersion: () => versionName(primary),
    rotate: addVersion,
    destroyVersion(name: string): void {
      const number = versionNumberOf(name);
      const version = number === undefined ? undefined : versions.get(number);
      if (!version) throw new Error(`fake KMS: no such CryptoKeyVersion ${name}`);
      version.state = 'DESTROYED';
      version.key.fill(0);
    },
    failNext(code: grpc.status, failOptions: FailNextOptions = {}): void {
      const count = failOptions.count ?? 1;
      if (!Number.isInteger(count) || count < 1) throw new Error(`fake KMS: failNext count must be ≥ 1, got ${count}`);
      failures.push({ code, remaining: count, method: failOptions.method ?? 'any', message: failOptions.message });
    },
    setLatency(ms: number): void {
      latencyMs = ms;
    },
    corruptNext(field: CorruptibleField): void {
      corruptions.add(field);
    },
    calls,
    resetCalls(): void {
      calls.encrypt = 0;
      calls.decrypt = 0;
    },
    close(): Promise<void> {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
