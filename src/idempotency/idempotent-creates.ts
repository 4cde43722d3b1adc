// createCredential and createProvider as both doors (the GraphQL resolvers and the REST routes)
// call them: with an Idempotency-Key, once per key (src/idempotency/idempotency-keys.ts), a retry
// answering the object as it is now; without one, straight to the service.
import type { Principal } from '../auth/principal';
import type { Credential } from '../credentials/credential.model';
import type { CreateCredentialRequest, CredentialService } from '../credentials/credential.service';
import type { Provider } from '../providers/provider.model';
import type { CreateProviderRequest, ProviderService } from '../providers/provider.service';
import type { IdempotencyKeys } from './idempotency-keys';

export interface IdempotentCreatesDependencies {
  keys: Pick<IdempotencyKeys, 'once'>;
  credentials: Pick<CredentialService, 'create' | 'get'>;
  providers: Pick<ProviderService, 'create' | 'get'>;
}

export class IdempotentCreates {
  constructor(private readonly dependencies: IdempotentCreatesDependencies) {}

  /** `idempotencyKey`: the Idempotency-Key header as sent; undefined when it was not. */
  createCredential(principal: Principal, request: CreateCredentialRequest, idempotencyKey: string | undefined): Promise<Credential> {
    const { keys, credentials } = this.dependencies;
    return keys.once(principal, idempotencyKey, {
      operation: 'createCredential',
      noun: 'credential',
      request,
      run: () => credentials.create(principal, request),
      reread: (id) => credentials.get(principal, id),
    });
  }

  createProvider(principal: Principal, request: CreateProviderRequest, idempotencyKey: string | undefined): Promise<Provider> {
    const { keys, providers } = this.dependencies;
    return keys.once(principal, idempotencyKey, {
      operation: 'createProvider',
      noun: 'provider',
      request,
      run: () => providers.create(principal, request),
      reread: (id) => providers.get(principal, id),
    });
  }
}
