// The per-request context: the caller (authenticated lazily, so introspection needs no token),
// the services, and this request's DataLoaders.
import type { AuditService } from './audit/audit.service';
import type { Principal } from './auth/principal';
import { createCredentialLoaders, type CredentialLoaders } from './credentials/credential.loader';
import type { CredentialService } from './credentials/credential.service';
import type { IdempotentCreates } from './idempotency/idempotent-creates';
import { createProviderLoaders, type ProviderLoaders } from './providers/provider.loader';
import type { ProviderService } from './providers/provider.service';
import type { UpstreamAuthService } from './runtime/upstream-auth.service';
import type { ValidationService } from './validation/validation.service';

export interface Services {
  /** Reading the audit trail (writes go through the repositories, in the changes' transactions). */
  audit: AuditService;
  credentials: CredentialService;
  providers: ProviderService;
  validation: ValidationService;
  /** createCredential and createProvider as the doors call them: once per Idempotency-Key. */
  idempotentCreates: IdempotentCreates;
  /** The runtime route's use case; no GraphQL or REST operation calls it. */
  upstreamAuth: UpstreamAuthService;
}

export type Loaders = CredentialLoaders & ProviderLoaders;

export interface Context {
  /** The verified caller; throws UNAUTHENTICATED when the request carried no valid token. */
  principal(): Promise<Principal>;
  /** The caller if authentication already succeeded in this request, for logging. */
  knownPrincipal(): Principal | undefined;
  services: Services;
  loaders: Loaders;
  /** The request's Idempotency-Key header as sent; undefined when it carried none. */
  idempotencyKey: string | undefined;
}

export function createContext(authenticate: () => Promise<Principal>, services: Services, idempotencyKey?: string): Context {
  let principal: Promise<Principal> | undefined;
  let known: Principal | undefined;
  const principalOnce = () =>
    (principal ??= authenticate().then((verified) => {
      known = verified;
      return verified;
    }));
  return {
    principal: principalOnce,
    knownPrincipal: () => known,
    services,
    loaders: {
      ...createCredentialLoaders(services.credentials, principalOnce),
      ...createProviderLoaders(services.providers, principalOnce),
    },
    idempotencyKey,
  };
}
