// Checks for the non-secret fields that credentials and providers share: name, base URL and
// settings. Each names the input path it rejects and never repeats the value.
import { BadUserInputError } from '../errors/app-error';
import { type BaseUrlPolicy, checkBaseUrlTarget, STRICT_BASE_URL_POLICY } from './base-url-target';
import { looksLikeSecretKey } from './secret-like-key';

export const NAME_MAX_LENGTH = 200;
export const CHANGE_NOTE_MAX_LENGTH = 500;
export const SETTINGS_MAX_BYTES = 16 * 1024;
/** Levels of objects and arrays in settings, the settings object itself being the first. */
export const SETTINGS_MAX_DEPTH = 16;
export const BASE_URL_MAX_LENGTH = 2048;

/**
 * Characters that change how a name reads without being seen: bidirectional overrides and
 * isolates, zero-width spaces and joiners, the byte-order mark, tag characters (all Unicode
 * format characters), line and paragraph separators, and the Hangul fillers that render as
 * nothing. Two names that look alike must be the same name.
 */
const INVISIBLE_IN_NAME = /[\p{Cf}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0\u{e0000}-\u{e007f}]/u;

/** A name as stored: NFC (one spelling per look), trimmed, 1..200 characters, nothing invisible. */
export function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new BadUserInputError(field, 'name is required.');
  // Before trimming, which would silently drop a byte-order mark at either end.
  if (INVISIBLE_IN_NAME.test(value)) {
    throw new BadUserInputError(
      field,
      'name must not contain invisible formatting characters (bidirectional overrides, zero-width or tag characters).',
    );
  }
  const name = (LONE_SURROGATE.test(value) ? value : value.normalize('NFC')).trim();
  if (name.length === 0) throw new BadUserInputError(field, 'name must not be blank.');
  if (name.length > NAME_MAX_LENGTH) {
    throw new BadUserInputError(field, `name must be at most ${NAME_MAX_LENGTH} characters.`);
  }
  if (/[\u0000-\u001f\u007f]/.test(name) || LONE_SURROGATE.test(name)) {
    throw new BadUserInputError(field, 'name must not contain control characters or unpaired surrogates.');
  }
  return name;
}

/** Lone UTF-16 surrogates: PostgreSQL cannot store them, and they are never meant. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * An absolute https URL the gateway may send the credential to (see checkBaseUrlTarget); with
 * `policy.allowPrivate` (BASE_URL_ALLOW_PRIVATE), http and private targets too.
 */
export function checkBaseUrl(field: string, value: string, policy: BaseUrlPolicy = STRICT_BASE_URL_POLICY): string {
  // The URL parser silently drops tabs and line breaks, encodes NUL and removes zero-width
  // characters from a host; what is stored is the raw text, so the raw text must already be clean.
  if (/[\s\u0000-\u001f\u007f]/.test(value) || LONE_SURROGATE.test(value)) {
    throw new BadUserInputError(field, 'baseUrl must not contain spaces, line breaks or control characters.');
  }
  if (/[\p{Cf}\p{Default_Ignorable_Code_Point}]/u.test(value)) {
    throw new BadUserInputError(field, 'baseUrl must not contain invisible characters (zero-width, bidirectional or tag characters).');
  }
  if (value.length > BASE_URL_MAX_LENGTH) {
    throw new BadUserInputError(field, `baseUrl must be at most ${BASE_URL_MAX_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadUserInputError(field, 'baseUrl must be an absolute http(s) URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BadUserInputError(field, 'baseUrl must be an absolute http(s) URL.');
  }
  // Userinfo in a URL is a secret in the wrong place: it would be shown to every reader.
  if (url.username !== '' || url.password !== '') {
    throw new BadUserInputError(field, 'baseUrl must not contain a user name or password; put credentials in auth.');
  }
  if (url.hash !== '') throw new BadUserInputError(field, 'baseUrl must not contain a fragment.');
  checkBaseUrlTarget(field, url, policy);
  return value;
}

export function checkSettings(field: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadUserInputError(field, 'settings must be a JSON object.');
  }
  const settings = value as Record<string, unknown>;
  // Before anything walks the value recursively (JSON.stringify included): deep enough nesting
  // exhausts the stack.
  if (nestedDeeperThan(settings, SETTINGS_MAX_DEPTH)) {
    throw new BadUserInputError(field, `settings must be nested at most ${SETTINGS_MAX_DEPTH} levels deep.`);
  }
  if (Buffer.byteLength(JSON.stringify(settings), 'utf8') > SETTINGS_MAX_BYTES) {
    throw new BadUserInputError(field, `settings must be at most ${SETTINGS_MAX_BYTES} bytes of JSON.`);
  }
  checkSettingsValue(field, settings);
  return settings;
}

/**
 * Walks nested objects and arrays too: `{ headers: { "X-Api-Key": ... } }` is as clear-text as a
 * top-level key. A key that names a secret, however spelled (looksLikeSecretKey), is refused on
 * its own path. Strings must be storable as jsonb: no NUL, no unpaired surrogate.
 */
function checkSettingsValue(path: string, value: unknown): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000') || LONE_SURROGATE.test(value)) {
      throw new BadUserInputError(path, 'settings strings must not contain NUL characters or unpaired surrogates.');
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkSettingsValue(`${path}.${index}`, item));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, nested] of Object.entries(value)) {
    if (key.includes('\u0000') || LONE_SURROGATE.test(key)) {
      throw new BadUserInputError(path, 'settings keys must not contain NUL characters or unpaired surrogates.');
    }
    if (looksLikeSecretKey(key)) {
      throw new BadUserInputError(`${path}.${key}`, `settings hold non-secret values only; put "${key}" in auth, where it is encrypted.`);
    }
    checkSettingsValue(`${path}.${key}`, nested);
  }
}

/** Whether objects and arrays nest deeper than `maxDepth` levels; walks with a stack of its own, not the call stack. */
function nestedDeeperThan(value: object, maxDepth: number): boolean {
  const pending: { value: object; depth: number }[] = [{ value, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.depth > maxDepth) return true;
    for (const nested of Object.values(next.value)) {
      if (nested !== null && typeof nested === 'object') pending.push({ value: nested as object, depth: next.depth + 1 });
    }
  }
  return false;
}

/** A write's change note: trimmed; null when absent or blank. Stored and shown in clear. */
export function checkChangeNote(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new BadUserInputError(field, 'changeNote must be a string.');
  const note = value.trim();
  if (note.length > CHANGE_NOTE_MAX_LENGTH) {
    throw new BadUserInputError(field, `changeNote must be at most ${CHANGE_NOTE_MAX_LENGTH} characters.`);
  }
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(note) || LONE_SURROGATE.test(note)) {
    throw new BadUserInputError(field, 'changeNote must not contain control characters or unpaired surrogates.');
  }
  return note === '' ? null : note;
}
