// Whether a name — a settings key, a URL query parameter — says that its value is a secret.
// Settings and base URLs are stored and shown in clear, so `x-api-key`, `aws_secret_access_key`
// or `?sig=` there would publish a secret to every reader. The comparison sees through spelling:
// Unicode compatibility forms (NFKC), case, separators, invisible characters, accents and
// look-alike letters of other scripts, and a secret word counts wherever it appears in the name
// (`private_key_pem`, `headersXApiKey`). Names that only describe a secret (`secret_version`,
// `api_key_header`, `token_limit`) are not secrets themselves, nor are the catalog's settings
// (`api_version` is not `api_key`: the words are compared whole, not by prefix).
import { toLatinLookAlikes } from './latin-look-alikes';

/** Found anywhere in the folded name: `X-Api-Key` and `xapikey` both contain `apikey`. */
const SECRET_WORDS = [
  'apikey',
  'secret',
  'password',
  'passwd',
  'passphrase',
  'privatekey',
  'credential',
  'connectionstring',
  'cookie',
  'authorization',
  'bearer',
  'accesskey',
  'accesstoken',
  'refreshtoken',
  'sessiontoken',
  'securitytoken',
  'sastoken',
  'authtoken',
  'apitoken',
  'externalid',
  'subscriptionkey',
  'accountkey',
  'signingkey',
  'encryptionkey',
  'masterkey',
] as const;

/** Secrets when they are the whole name (`?key=`, `?sig=`), but too common inside other words. */
const SECRET_NAMES = new Set(['key', 'keys', 'token', 'pwd', 'pass', 'auth', 'sig', 'signature', 'jwt', 'sas']);

/**
 * A secret word followed by one of these describes the secret rather than holding it:
 * `secret_version`, `api_key_header`, `secretRotatedAt`, `token_limit`.
 */
const DESCRIBING_WORDS = new Set([
  'version',
  'path',
  'ref',
  'reference',
  'name',
  'id',
  'arn',
  'uri',
  'url',
  'endpoint',
  'header',
  'location',
  'limit',
  'type',
  'length',
  'ttl',
  'rotated',
  'rotation',
  'expiry',
  'expires',
  'expiration',
  'last4',
  'hint',
  'field',
  'param',
  'parameter',
  'prefix',
  'format',
  'enabled',
  'required',
  'mode',
  'source',
  'count',
]);

/** A name ending in `key` is a secret (`openai_key`, `license_key`) unless one of these says which record it keys. */
const NON_SECRET_KEY_KINDS = new Set([
  'cache',
  'partition',
  'sort',
  'range',
  'hash',
  'idempotency',
  'dedup',
  'dedupe',
  'deduplication',
  'routing',
  'group',
  'lookup',
  'primary',
  'foreign',
  'shard',
  'object',
  'bucket',
  'index',
  'row',
]);

/** Digits written for letters (`passw0rd`, `s3cret`): compared as the letters they stand for. */
const DIGITS_AS_LETTERS: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't' };

/** Zero-width and other invisible characters: they vanish, joining what they separated in the text only. */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const MARKS = /\p{M}/gu;

interface Word {
  /** Lower case, look-alikes mapped to Latin: compared with the describing and key-kind words. */
  text: string;
  /** The same with digits read as letters: searched for secret words. */
  letters: string;
}

/** The name's words: split at separators and at lower-to-upper case changes, each folded. */
function wordsOf(name: string): Word[] {
  const visible = name.normalize('NFKC').replace(INVISIBLE, '');
  const bare = visible.normalize('NFD').replace(MARKS, '').normalize('NFC');
  const separated = bare
    .replace(/([\p{Ll}\p{Nd}])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .toLowerCase();
  return separated
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '')
    .map((word) => {
      const text = toLatinLookAlikes(word);
      return { text, letters: text.replace(/[013457]/g, (digit) => DIGITS_AS_LETTERS[digit]) };
    });
}

/** True when `name` says its value is a secret. */
export function looksLikeSecretKey(name: string): boolean {
  const words = wordsOf(name);
  if (words.length === 0) return false;
  const joined = words.map((word) => word.letters).join('');
  if (SECRET_NAMES.has(joined)) return true;

  const last = words[words.length - 1];
  if (last.letters === 'token') return true;
  if (last.letters === 'key' && words.length > 1 && !NON_SECRET_KEY_KINDS.has(words[words.length - 2].text)) return true;

  // Where each word starts in `joined`, to tell what follows a secret word found there.
  const starts: number[] = [];
  let offset = 0;
  for (const word of words) {
    starts.push(offset);
    offset += word.letters.length;
  }
  for (const secretWord of SECRET_WORDS) {
    for (let at = joined.indexOf(secretWord); at !== -1; at = joined.indexOf(secretWord, at + 1)) {
      const end = at + secretWord.length;
      const next = starts.indexOf(end);
      // Ends inside a word (`passwords`) or ends the name: it holds the secret.
      if (next === -1) return true;
      if (!DESCRIBING_WORDS.has(words[next].text)) return true;
    }
  }
  return false;
}
