// Operations built to be expensive: nesting that multiplies rows at every level, aliases that
// repeat a page many times, and the ordinary shapes just under each limit. Shared by the
// end-to-end tests of the operation limits and by bench/abuse.bench.ts.

/** The fields a credential page asks for in a realistic listing. */
export const LISTED_CREDENTIAL_FIELDS = 'id name modelProvider authType baseUrl keyLast4 secretVersion createdAt';

/**
 * `credentials(first: 100) { edges { node { providers { credential { providers … name` nested
 * `depth` fields deep (at least 4): every provider level multiplies the rows of the one above.
 */
export function nestingBomb(depth: number, options: { first?: number; name?: string } = {}): string {
  if (depth < 4) throw new Error('a nesting bomb is at least 4 fields deep');
  const path = [`credentials(first: ${options.first ?? 100})`, 'edges', 'node'];
  while (path.length < depth - 1) path.push(path.length % 2 === 1 ? 'providers' : 'credential');
  return `query ${options.name ?? 'NestingBomb'} { ${path.join(' { ')} { name ${' }'.repeat(path.length)} }`;
}

/** `count` aliases of `credentials(first: <first>) { edges { node { id name } } }`. */
export function aliasBomb(count: number, first = 100, name = 'AliasBomb'): string {
  const fields = Array.from({ length: count }, (_, index) => `a${index}: credentials(first: ${first}) { edges { node { id name } } }`);
  return `query ${name} { ${fields.join(' ')} }`;
}
