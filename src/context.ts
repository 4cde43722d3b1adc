// The per-request context: the caller (authenticated lazily, so introspection needs no token),
// the services, and this request's DataLoaders.
import DataLoader from 'dataloader';
import type { Principal } from './auth/principal';
import type { Credential } from './credentials/credential.model';
import type { CredentialService } from './credentials/credential.service';
import type { Provider } from './providers/provider.model';
import type { ProviderService } from './providers/provider.service';
import type { ValidationService } from './validation/validation.service';

export interface Services {
  credentials: CredentialService;
  providers: ProviderService;
  validation: ValidationService;
}

export interface Loaders {
  credentialById: DataLoader<string, Credential | null>;
  providerById: DataLoader<string, Provider | null>;
  providersByCredentialId: DataLoader<string, Provider[]>;
}

export interface Context {
  /** The verified caller; throws UNAUTHENTICATED when the request carried no valid token. */
  principal(): Promise<Principal>;
  /** The caller if authentication already succeeded in this request, for logging. */
  knownPrincipal(): Principal | undefined;
  services: Services;
  loaders: Loaders;
}

export function createContext(authenticate: () => Promise<Principal>, services: Services): Context {
  let principal: Promise<Principal> | undefined;
  let known: Principal | undefined;
  const context: Context = {
    principal: () =>
      (principal ??= authenticate().then((verified) => {
        known = verified;
        return verified;
      })),
    knownPrincipal: () => known,
    services,
    loaders: {
      credentialById: new DataLoader(async (ids) => services.credentials.getMany(await context.principal(), ids)),
      providerById: new DataLoader(async (ids) => services.providers.getMany(await context.principal(), ids)),
      providersByCredentialId: new DataLoader(async (ids) => services.providers.usingCredentials(await context.principal(), ids)),
    },
  };
  return context;
}
