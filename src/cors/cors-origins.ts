// CORS_ORIGINS: the origins whose pages may call the API from a browser. An origin is what a
// browser sends in its Origin header (scheme, host and port, nothing else, written the way the
// browser writes it), and entries are compared with it exactly; an entry written any other way
// would silently never match, so it is refused with what to write instead.

export interface CorsOrigins {
  /** The origins allowed, each exactly as a browser sends it; empty means CORS is off. */
  origins: string[];
  /** What is wrong with each entry that is not an origin, for the configuration's error. */
  problems: string[];
}

const EXAMPLE = 'https://portal.example.com';

/** Reads a comma-separated list of origins; unset or blank means none. */
export function parseCorsOrigins(text: string | undefined): CorsOrigins {
  const origins: string[] = [];
  const problems: string[] = [];
  for (const entry of (text ?? '').split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const problem = problemOf(entry);
    if (problem) problems.push(`CORS_ORIGINS: ${problem}`);
    else if (!origins.includes(entry)) origins.push(entry);
  }
  return { origins, problems };
}

function problemOf(entry: string): string | undefined {
  if (entry.includes('*')) {
    return `"${entry}" is a wildcard, which is refused: it would let any site's pages call the API; list each origin (${EXAMPLE})`;
  }
  if (entry === 'null') {
    return '"null" is refused: it is the origin of sandboxed frames and local files, which any site can create';
  }
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `"${entry}" is not an origin such as ${EXAMPLE}`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${entry}" must be an http or https origin such as ${EXAMPLE}`;
  if (url.username !== '' || url.password !== '') return `"${entry}" must not carry a user name or password`;
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[/?#]$/.test(entry)) {
    return `"${entry}" has a path, query or fragment; an origin is scheme, host and port only: "${url.origin}"`;
  }
  if (entry !== url.origin) return `"${entry}" is not written as browsers send it (lower case, no default port): "${url.origin}"`;
  return undefined;
}
