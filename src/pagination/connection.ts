// Builds Relay connections for lists ordered by (createdAt, id), and the keyset condition that
// continues such a list after a cursor.
import { decodeCursor, encodeCursor, type PageCursor, pageSize } from './page-cursor';

export interface Connection<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface Page<Node> {
  nodes: Node[];
  hasNextPage: boolean;
}

export function toConnection<Node extends PageCursor>(page: Page<Node>, totalCount: number): Connection<Node> {
  const edges = page.nodes.map((node) => ({ cursor: encodeCursor(node), node }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount };
}

/** Rows strictly after the cursor in (createdAt, id) order, as a Prisma where fragment. */
export function keysetAfter(after: PageCursor | undefined) {
  if (!after) return {};
  return { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] };
}

/** Reads one row more than asked to learn whether another page follows. */
export function pageOf<Node>(rows: Node[], first: number): Page<Node> {
  return { nodes: rows.slice(0, first), hasNextPage: rows.length > first };
}

/**
 * A connection from Relay arguments: `first` capped, `after` decoded (both BAD_USER_INPUT when
 * malformed), the page and the total count read together.
 */
export async function loadConnection<Node extends PageCursor>(
  args: { first?: number | null; after?: string | null },
  loadPage: (window: { first: number; after?: PageCursor }) => Promise<Page<Node>>,
  count: () => Promise<number>,
): Promise<Connection<Node>> {
  const first = pageSize('first', args.first);
  const after = args.after ? decodeCursor('after', args.after) : undefined;
  const [page, totalCount] = await Promise.all([
    first === 0 ? Promise.resolve({ nodes: [], hasNextPage: false }) : loadPage({ first, after }),
    count(),
  ]);
  return toConnection(page, totalCount);
}
