// Federation: how another subgraph's reference to a Provider (`{ __typename, id }`) becomes the
// caller's provider, through the request's loader (null for misses and other organizations).
import type { Context } from '../context';
import type { Provider } from './provider.model';

export const providerReferenceResolvers = {
  Provider: {
    __resolveReference: (reference: { id: string }, ctx: Context): Promise<Provider | null> => ctx.loaders.providerById.load(reference.id),
  },
};
