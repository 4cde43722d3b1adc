// Chooses the key service from configuration: Google Cloud KMS when KMS_KEY_NAME is set, the
// development key ring otherwise (refused in production). Never one as a fallback for the other.
// The Cloud KMS client (gRPC, protobufs, Google auth: a fifth of the modules the service loads) is
// loaded only when it is configured, so the development key ring starts without it.
import type { Config } from '../config/config';
import type { KeyService } from './key-service';
import { LocalKeyring } from './local-keyring';

export async function openKeyService(config: Config): Promise<KeyService> {
  if (config.kmsKeyName) {
    const { GcpKmsKeyService } = await import('./gcp-kms');
    return new GcpKmsKeyService({
      keyName: config.kmsKeyName,
      apiEndpoint: config.kmsApiEndpoint,
      callTimeoutMs: config.kmsTimeoutMs,
      dataKeyCache: config.kmsDataKeyCache,
    });
  }
  return LocalKeyring.open(config.dataDir, { production: config.production });
}
