// The DataLoader contract for id lookups: results in key order, null (or an empty group) for
// misses. Ids that are not UUIDs cannot name a row, so they are misses without a query.
import { isUuid } from './uuid';

/** The keys that can name a row, in the canonical lower-case form the database returns. */
function queryableIds(ids: readonly string[]): string[] {
  return ids.filter(isUuid).map((id) => id.toLowerCase());
}

/** One row per key, looked up by the row's own id. */
export async function loadInKeyOrder<Row extends { id: string }>(
  ids: readonly string[],
  fetch: (validIds: string[]) => Promise<Row[]>,
): Promise<(Row | null)[]> {
  const valid = queryableIds(ids);
  const found = valid.length > 0 ? await fetch(valid) : [];
  const byId = new Map(found.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
}

/** Every row per key, grouped by the key the row refers to, in the order `fetch` returns them. */
export async function loadGroupsInKeyOrder<Row>(
  ids: readonly string[],
  fetch: (validIds: string[]) => Promise<Row[]>,
  keyOf: (row: Row) => string | null,
): Promise<Row[][]> {
  const valid = queryableIds(ids);
  const found = valid.length > 0 ? await fetch(valid) : [];
  const groups = new Map<string, Row[]>();
  for (const row of found) {
    const key = keyOf(row);
    if (key === null) continue;
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return ids.map((id) => groups.get(id.toLowerCase()) ?? []);
}
