// The credential as the service sees it: metadata only. The sealed secret never appears here.
import type { AuthType, ModelProvider } from '../catalog/provider-catalog';

export interface Credential {
  id: string;
  organizationId: string;
  name: string;
  modelProvider: ModelProvider;
  authType: AuthType;
  baseUrl: string;
  settings: Record<string, unknown>;
  authParameters: Record<string, unknown>;
  keyLast4: string | null;
  storesKeyMaterial: boolean;
  secretVersion: number;
  secretRotatedAt: Date;
  createdAt: Date;
  updatedAt: Date;
  createdBy: string;
  updatedBy: string;
}
