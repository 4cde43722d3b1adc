// The credential DataLoaders of one request: every Provider.credential of a response is loaded
// in one query, and results are the caller's own rows only (misses and foreign ids are null).
import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal';
import type { Credential } from './credential.model';
import type { CredentialService } from './credential.service';

export interface CredentialLoaders {
  credentialById: DataLoader<string, Credential | null>;
}

export function createCredentialLoaders(
  credentials: Pick<CredentialService, 'getMany'>,
  principal: () => Promise<Principal>,
): CredentialLoaders {
  return {
    credentialById: new DataLoader(async (ids) => credentials.getMany(await principal(), ids)),
  };
}
