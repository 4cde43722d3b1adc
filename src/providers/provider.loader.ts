// The provider DataLoaders of one request: providers by id (entity references) and the providers
// backed by each credential (Credential.providers), each batch in one query.
import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal';
import type { Provider } from './provider.model';
import type { ProviderService } from './provider.service';

export interface ProviderLoaders {
  providerById: DataLoader<string, Provider | null>;
  providersByCredentialId: DataLoader<string, Provider[]>;
}

export function createProviderLoaders(
  providers: Pick<ProviderService, 'getMany' | 'usingCredentials'>,
  principal: () => Promise<Principal>,
): ProviderLoaders {
  return {
    providerById: new DataLoader(async (ids) => providers.getMany(await principal(), ids)),
    providersByCredentialId: new DataLoader(async (ids) => providers.usingCredentials(await principal(), ids)),
  };
}
