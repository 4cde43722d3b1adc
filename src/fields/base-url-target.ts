// Where a credential's base URL may point. The gateway sends the credential to this address (the
// API key in a header, a signed request), so it must be a public https endpoint: plain http puts
// the key on the wire, and a loopback, private, link-local or metadata target aims the gateway's
// key-bearing requests into the network it runs in. The URL itself must carry no secret (a
// key-like query parameter is shown to every reader), and its host must not imitate another
// (mixed scripts, letters that only look Latin). BASE_URL_ALLOW_PRIVATE lifts the https and
// address rules, for development and tests; the others always hold.
import { domainToASCII, domainToUnicode } from 'node:url';
import ipaddr from 'ipaddr.js';
import { BadUserInputError } from '../errors/app-error';
import { isBlockedAddress, METADATA_NAMES } from '../validation/outbound';
import { toLatinLookAlikes } from './latin-look-alikes';
import { looksLikeSecretKey } from './secret-like-key';

export interface BaseUrlPolicy {
  /** BASE_URL_ALLOW_PRIVATE: plain http and loopback, private and link-local targets are accepted. */
  allowPrivate: boolean;
}

export const STRICT_BASE_URL_POLICY: BaseUrlPolicy = { allowPrivate: false };

/** Names that resolve inside the network the gateway runs in, never to a vendor's public API. */
const LOCAL_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);
const LOCAL_SUFFIXES = [
  '.localhost',
  '.local',
  '.localdomain',
  '.internal',
  '.home.arpa',
  '.lan',
  '.home',
  '.corp',
  '.intranet',
  '.private',
];

/** Scripts a host's letters are sorted into; letters of any other script count as one more, "Other". */
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Georgian',
  'Hangul',
  'Ethiopic',
  'Cherokee',
  'Khmer',
  'Mongolian',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
].map((script) => ({ script, pattern: new RegExp(`^\\p{Script=${script}}$`, 'u') }));

/** The mixtures one language writes with (Unicode's "highly restrictive" level, UTS #39). */
const SCRIPT_MIXTURES = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

const SHARED_OR_INHERITED = /^[\p{Script=Common}\p{Script=Inherited}]$/u;
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

const WHY = 'the gateway sends the credential to this address';

/** Refuses a parsed http(s) base URL that the gateway must not send a credential to. */
export function checkBaseUrlTarget(field: string, url: URL, policy: BaseUrlPolicy): void {
  for (const name of new Set(url.searchParams.keys())) {
    if (looksLikeSecretKey(name)) {
      throw new BadUserInputError(
        field,
        'baseUrl must not carry a secret in its query (a parameter named like a key, token, signature or password): the base URL is stored and shown in clear. Put the secret in auth, where it is encrypted.',
      );
    }
  }
  const host = url.hostname.replace(/\.$/, '');
  const literal = host.startsWith('[') || ipaddr.IPv4.isValidFourPartDecimal(host);
  if (!literal) checkHostName(field, host);
  if (policy.allowPrivate) return;
  if (url.protocol !== 'https:') {
    throw new BadUserInputError(field, `baseUrl must use https: ${WHY}, and plain http would expose it on the network.`);
  }
  if (literal ? isBlockedAddress(host) : isLocalName(host)) {
    throw new BadUserInputError(
      field,
      `baseUrl must point at a public host: ${WHY}, and loopback, private, link-local and cloud metadata addresses reach into the network the gateway runs in.`,
    );
  }
}

function isLocalName(host: string): boolean {
  // A single label is completed with the resolver's search domains: a name inside the network.
  if (!host.includes('.')) return true;
  return LOCAL_NAMES.has(host) || METADATA_NAMES.has(host) || LOCAL_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

/**
 * An internationalized host must be a valid IDN written in one script (or one language's usual
 * mixture), and no label of it may be made only of letters that look Latin (`аррӏе` in Cyrillic).
 * URL parsing has already turned the host into its ASCII (punycode) form.
 */
function checkHostName(field: string, host: string): void {
  if (!host.split('.').some((label) => label.startsWith('xn--'))) return;
  const unicode = domainToUnicode(host);
  if (unicode === '' || domainToASCII(unicode) !== host || INVISIBLE.test(unicode)) {
    throw new BadUserInputError(field, "baseUrl's host is not a valid internationalized domain name.");
  }
  const scripts = new Set<string>();
  for (const character of unicode) {
    if (character === '.' || character === '-' || SHARED_OR_INHERITED.test(character)) continue;
    scripts.add(SCRIPTS.find(({ pattern }) => pattern.test(character))?.script ?? 'Other');
  }
  const oneScript = scripts.size <= 1 || SCRIPT_MIXTURES.some((mixture) => [...scripts].every((script) => mixture.has(script)));
  if (!oneScript) {
    throw new BadUserInputError(
      field,
      `baseUrl's host mixes writing systems (such as Latin and Cyrillic look-alike letters): it can pass for another host, and ${WHY}.`,
    );
  }
  for (const label of unicode.split('.')) {
    if (/^\p{ASCII}*$/u.test(label)) continue;
    if (/^[a-z0-9-]+$/.test(toLatinLookAlikes(label.toLowerCase()))) {
      throw new BadUserInputError(
        field,
        `baseUrl's host is written in letters that only look Latin: it can pass for another host, and ${WHY}.`,
      );
    }
  }
}
