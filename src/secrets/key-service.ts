// The key service wraps and unwraps data keys. Two implementations sit behind this interface:
// the development key ring under DATA_DIR (local-keyring.ts) and Google Cloud KMS (gcp-kms.ts).

export interface WrappedDataKey {
  /** Which key wrapped it: `local:<version>` for the key ring, the CryptoKeyVersion name for KMS. */
  keyId: string;
  /** The wrapped data key, opaque to everyone but the key service. */
  wrappedKey: Buffer;
}

export interface KeyService {
  /** A short name for logs and readiness reports, e.g. `local-keyring` or `gcp-kms`. */
  readonly name: string;
  /** Wraps a data key, binding it to the additional authenticated data. */
  wrap(dataKey: Buffer, aad: Buffer): Promise<WrappedDataKey>;
  /** Unwraps a data key; fails when the wrapped key or the AAD were altered. */
  unwrap(wrapped: WrappedDataKey, aad: Buffer): Promise<Buffer>;
  /** Resolves when the key service can serve requests; rejects otherwise (readiness). */
  checkReady(): Promise<void>;
  /** The keyId that a wrap made now would carry: data keys under any other need re-wrapping. */
  primaryKeyId(): Promise<string>;
  /** Releases connections, if any. */
  close?(): Promise<void>;
}
