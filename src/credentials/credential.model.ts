// The credential as the service sees it: metadata only. The sealed secret never appears here.
import type { AuthType, ModelProvider } from '../catalog/model-provider-catalog';

/** Non-secret parameters of the auth method, kept in clear: GOOGLE_ADC's quota project. */
export interface AuthParameters {
  quotaProjectId?: string;
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
}
