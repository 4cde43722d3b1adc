// Checks for the non-secret fields that credentials and providers share: name, base URL and
// settings. Each names the input path it rejects and never repeats the value.
import { BadUserInputError } from '../errors/app-error';

export const NAME_MAX_LENGTH = 200;
export const CHANGE_NOTE_MAX_LENGTH = 500;
export const SETTINGS_MAX_BYTES = 16 * 1024;
export const BASE_URL_MAX_LENGTH = 2048;

/**
 * Setting keys that name a secret. Settings are stored and returned in clear, so a secret put
 * there by mistake is refused rather than kept.
 */
const SECRET_LIKE_KEY =
  /^(api[_-]?key|secret|secret[_-]?access[_-]?key|password|passwd|private[_-]?key|token|access[_-]?token|refresh[_-]?token|session[_-]?token|external[_-]?id|client[_-]?secret|authorization)$/i;

export function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new BadUserInputError(field, 'name is required.');
  const name = value.trim();
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

export function checkBaseUrl(field: string, value: string): string {
  // The URL parser silently drops tabs and line breaks and encodes NUL; what is stored is the
  // raw text, so the raw text must already be clean.
  if (/[\s\u0000-\u001f\u007f]/.test(value) || LONE_SURROGATE.test(value)) {
    throw new BadUserInputError(field, 'baseUrl must not contain spaces, line breaks or control characters.');
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
  return value;
}

export function checkSettings(field: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadUserInputError(field, 'settings must be a JSON object.');
  }
  const settings = value as Record<string, unknown>;
  if (Buffer.byteLength(JSON.stringify(settings), 'utf8') > SETTINGS_MAX_BYTES) {
    throw new BadUserInputError(field, `settings must be at most ${SETTINGS_MAX_BYTES} bytes of JSON.`);
  }
  checkSettingsValue(field, settings);
  return settings;
}

/**
 * Walks nested objects and arrays too: `{ headers: { Authorization: ... } }` is as clear-text
 * as a top-level key. Strings must be storable as jsonb: no NUL, no unpaired surrogate.
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
    if (SECRET_LIKE_KEY.test(key)) {
      throw new BadUserInputError(`${path}.${key}`, `settings hold non-secret values only; put "${key}" in auth, where it is encrypted.`);
    }
    checkSettingsValue(`${path}.${key}`, nested);
  }
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
