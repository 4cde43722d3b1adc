// The DataLoader contract for id lookups: results in key order, null for misses. Ids that are
// not UUIDs cannot name a row, so they are misses without a query.
import { isUuid } from './uuid';

export async function loadInKeyOrder<Row extends { id: string }>(
  ids: readonly string[],
  fetch: (validIds: string[]) => Promise<Row[]>,
): Promise<(Row | null)[]> {
  const valid = ids.filter(isUuid).map((id) => id.toLowerCase());
  const found = valid.length > 0 ? await fetch(valid) : [];
  const byId = new Map(found.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
}
