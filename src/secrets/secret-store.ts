// The one road for secrets. Plaintext is sealed here before it reaches the database, and the
// sealed columns are read back here and nowhere else (every other read omits them).
import type { AuthType } from '../catalog/provider-catalog';
import type { Database } from '../db/database';
import type { EnvelopeCipher, SealedSecret, SecretBinding } from './envelope';

export interface OpenedSecret {
  authType: AuthType;
  secretVersion: number;
  /** The sealed auth member, e.g. `{ apiKey }` or `{ iamRoleArn, externalId }`; null for GOOGLE_ADC. */
  payload: Record<string, unknown> | null;
}

export class SecretStore {
  constructor(
    private readonly prisma: Database,
    private readonly cipher: EnvelopeCipher,
  ) {}

  seal(payload: Record<string, unknown>, binding: SecretBinding): Promise<SealedSecret> {
    return this.cipher.seal(payload, binding);
  }

  /** Opens the secret of an organization's credential; null when there is no such credential. */
  async open(organizationId: string, credentialId: string): Promise<OpenedSecret | null> {
    const row = await this.prisma.credential.findFirst({
      where: { id: credentialId, organizationId },
      select: {
        authType: true,
        secretVersion: true,
        secretAlgorithm: true,
        secretCiphertext: true,
        secretNonce: true,
        secretWrappedKey: true,
        secretKeyId: true,
      },
    });
    if (!row) return null;
    const { secretAlgorithm, secretCiphertext, secretNonce, secretWrappedKey, secretKeyId } = row;
    if (!secretAlgorithm || !secretCiphertext || !secretNonce || !secretWrappedKey || !secretKeyId) {
      return { authType: row.authType, secretVersion: row.secretVersion, payload: null };
    }
    const payload = await this.cipher.open(
      {
        algorithm: secretAlgorithm,
        ciphertext: Buffer.from(secretCiphertext),
        nonce: Buffer.from(secretNonce),
        wrappedKey: Buffer.from(secretWrappedKey),
        keyId: secretKeyId,
      },
      { organizationId, credentialId, secretVersion: row.secretVersion, authType: row.authType },
    );
    return { authType: row.authType, secretVersion: row.secretVersion, payload };
  }
}
