// Builds Relay connections for lists ordered by a row's sequence number (`seq`), and the keyset
// condition that continues such a list after a cursor. The sequence is strictly increasing and,
// within an organization, follows commit order (the provider-updates-and-sequences migration), so
// a row can never appear behind a cursor already handed out: paging never skips one.
import { decodeCursor, encodeCursor, type PageCursor, pageSize } from './page-cursor';

/** What a list's PageInfo says (`src/pagination/page-info.type.ts`). */
export interface PageInfoFields {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: PageInfoFields;
  totalCount: number;
}

export interface Page<Node> {
  edges: { node: Node; position: PageCursor }[];
  hasNextPage: boolean;
}

export function toConnection<Node>(page: Page<Node>, totalCount: number): Connection<Node> {
  const edges = page.edges.map(({ node, position }) => ({ cursor: encodeCursor(position), node }));
  return { edges, pageInfo: pageInfoOf(edges, page.hasNextPage), totalCount };
}

/** The PageInfo of a page of edges read forward (`first`/`after`): never a previous page. */
export function pageInfoOf(edges: { cursor: string }[], hasNextPage: boolean): PageInfoFields {
  return { hasNextPage, hasPreviousPage: false, startCursor: edges.at(0)?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null };
}

/** Rows strictly after the cursor in seq order, as a Prisma where fragment. */
export function keysetAfter(after: PageCursor | undefined) {
  if (!after) return {};
  return { seq: { gt: after.seq } };
}

/** The order keysetAfter continues, as a Prisma orderBy. */
export const SEQUENCE_ORDER = { seq: 'asc' } as const;

/**
 * A page from rows read in seq order, one more than asked to learn whether another page follows;
 * `toNode` maps a row to what the list shows.
 */
export function pageOf<Row extends PageCursor, Node>(rows: Row[], first: number, toNode: (row: Row) => Node): Page<Node> {
  return {
    edges: rows.slice(0, first).map((row) => ({ node: toNode(row), position: { seq: row.seq } })),
    hasNextPage: rows.length > first,
  };
}

/**
 * A connection from Relay arguments: `first` capped, `after` decoded (both BAD_USER_INPUT when
 * malformed), the page and the total count read together.
 */
export async function loadConnection<Node>(
  args: { first?: number | null; after?: string | null },
  loadPage: (window: { first: number; after?: PageCursor }) => Promise<Page<Node>>,
  count: () => Promise<number>,
): Promise<Connection<Node>> {
  const first = pageSize('first', args.first);
  const after = args.after ? decodeCursor('after', args.after) : undefined;
  const [page, totalCount] = await Promise.all([
    first === 0 ? Promise.resolve<Page<Node>>({ edges: [], hasNextPage: false }) : loadPage({ first, after }),
    count(),
  ]);
  return toConnection(page, totalCount);
}
