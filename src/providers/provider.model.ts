// A provider (a gateway route) as the service sees it.
import type { ModelProvider } from '../catalog/model-provider-catalog';

export interface Provider {
  id: string;
  organizationId: string;
  name: string;
  modelProvider: ModelProvider;
  /** The credential it uses; null for OAuth passthrough. */
  credentialId: string | null;
  oauthPassthrough: boolean;
  settings: Record<string, unknown>;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
  updatedBy: string;
  /** 1 on insert, +1 on every write. */
  revision: number;
}

/** A provider read for some of its fields only (for a GraphQL selection); the others are absent. */
export type SelectedProvider = Pick<Provider, 'id' | 'organizationId' | 'credentialId'> & Partial<Provider>;
