// The credential as the service sees it: metadata only. The sealed secret never appears here.
import type { AuthType, ModelProvider } from '../catalog/model-provider-catalog';

/** Non-secret parameters of the auth method, kept in clear. */
export interface AuthParameters {
  /** GOOGLE_ADC's quota project. */
  quotaProjectId?: string;
  /** AWS_ROLE: the external id the vault generated for this credential (absent when the admin chose one). */
  generatedExternalId?: string;
}

export interface Credential {
  id: string;
  organizationId: string;
  name: string;
  modelProvider: ModelProvider;
  authType: AuthType;
  baseUrl: string;
  settings: Record<string, unknown>;
  authParameters: AuthParameters;
  keyLast4: string | null;
  storesKeyMaterial: boolean;
  secretVersion: number;
  secretRotatedAt: Date;
  createdAt: Date;
  updatedAt: Date;
  createdBy: string;
  updatedBy: string;
  /** The note given with the latest write; null when it gave none. */
  lastChangeNote: string | null;
  /** 1 on insert, +1 on every write. */
  revision: number;
  /** The latest resolve through the runtime route (to the minute); null until then. */
  lastUsedAt: Date | null;
}

/** A credential read for some of its fields only (a list page for a GraphQL selection): the others are absent. */
export type SelectedCredential = Pick<Credential, 'id' | 'organizationId'> & Partial<Credential>;
