// A credential's base URL and the catalog's defaults: the default follows the settings it is
// built from (an AWS region, a Vertex location), and a malformed setting is refused even when
// the base URL is given explicitly.
import { defaultBaseUrl, type ModelProvider } from '../catalog/model-provider-catalog';
import { BadUserInputError } from '../errors/app-error';
import type { Credential } from './credential.model';

export interface BaseUrlPaths {
  baseUrl: string;
  settings: string;
}

/** The model provider's default base URL for these settings, or a BAD_USER_INPUT naming what is missing. */
export function resolveDefaultBaseUrl(modelProvider: ModelProvider, settings: Record<string, unknown>, paths: BaseUrlPaths): string {
  const result = defaultBaseUrl(modelProvider, settings);
  if ('problem' in result) {
    throw new BadUserInputError(`${paths.settings}.${result.problem.setting}`, result.problem.message);
  }
  if (result.url === null) {
    throw new BadUserInputError(paths.baseUrl, `baseUrl is required for ${modelProvider}: it has no public default endpoint.`);
  }
  return result.url;
}

/** A region or location given in settings must be well-formed even when baseUrl is explicit. */
export function checkUrlParameter(modelProvider: ModelProvider, settings: Record<string, unknown>, path: string): void {
  const result = defaultBaseUrl(modelProvider, settings);
  if ('problem' in result) throw new BadUserInputError(`${path}.${result.problem.setting}`, result.problem.message);
}

/** Whether the stored base URL is the default for the stored settings (so it follows new settings). */
export function hasDefaultBaseUrl(credential: Pick<Credential, 'modelProvider' | 'settings' | 'baseUrl'>): boolean {
  const result = defaultBaseUrl(credential.modelProvider, credential.settings);
  return 'url' in result && result.url === credential.baseUrl;
}
