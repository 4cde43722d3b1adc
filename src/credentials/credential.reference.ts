// Federation: how another subgraph's reference to a Credential (`{ __typename, id }`) becomes
// the caller's credential, through the request's loader (null for misses and other organizations).
import type { Context } from '../context';
import type { Credential } from './credential.model';

export const credentialReferenceResolvers = {
  Credential: {
    __resolveReference: (reference: { id: string }, ctx: Context): Promise<Credential | null> =>
      ctx.loaders.credentialById.load(reference.id),
  },
};
