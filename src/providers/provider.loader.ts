// The provider DataLoaders of one request: providers by id (entity references) and the providers
// backed by each credential (Credential.providers), each batch in one query. The latter read the
// fields a selection shows of them: one loader per set of fields, so that each batch reads its own.
import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal';
import type { Provider, SelectedProvider } from './provider.model';
import type { ProviderService } from './provider.service';

export interface ProviderLoaders {
  providerById: DataLoader<string, Provider | null>;
  /** The providers backed by each credential, holding `fields` (every field when undefined) and their id, organization and credential. */
  providersByCredentialId(fields?: readonly (keyof Provider)[]): DataLoader<string, SelectedProvider[]>;
}

export function createProviderLoaders(
  providers: Pick<ProviderService, 'getMany' | 'usingCredentials'>,
  principal: () => Promise<Principal>,
): ProviderLoaders {
  const byFields = new Map<string, DataLoader<string, SelectedProvider[]>>();
  return {
    providerById: new DataLoader(async (ids) => providers.getMany(await principal(), ids)),
    providersByCredentialId(fields) {
      const key = fields === undefined ? '*' : [...fields].sort().join(',');
      let loader = byFields.get(key);
      if (!loader) {
        loader = new DataLoader(async (ids) => providers.usingCredentials(await principal(), ids, fields));
        byFields.set(key, loader);
      }
      return loader;
    },
  };
}
