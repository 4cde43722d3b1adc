// Finds the parts of a SQL statement that *read* columns back to the client: every SELECT list
// (up to its FROM, at the same parenthesis depth, so subqueries are included) and every RETURNING
// clause. INSERT column lists and UPDATE SET assignments write columns and are not included.
// Quoted identifiers and string literals are respected, so `"from"` or 'select' do not confuse it.

type Token = { kind: 'word' | 'open' | 'close' | 'semicolon' | 'other'; text: string; start: number; end: number };

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < sql.length) {
    const char = sql[index];
    if (/\s/.test(char)) {
      index += 1;
    } else if (char === "'" || char === '"') {
      // A quoted literal or identifier; a doubled quote is an escaped one.
      let end = index + 1;
      while (end < sql.length && !(sql[end] === char && sql[end + 1] !== char)) end += sql[end] === char ? 2 : 1;
      tokens.push({ kind: 'other', text: sql.slice(index, end + 1), start: index, end: end + 1 });
      index = end + 1;
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(index))!;
      tokens.push({ kind: 'word', text: match[0].toUpperCase(), start: index, end: index + match[0].length });
      index += match[0].length;
    } else {
      const kind = char === '(' ? 'open' : char === ')' ? 'close' : char === ';' ? 'semicolon' : 'other';
      tokens.push({ kind, text: char, start: index, end: index + 1 });
      index += 1;
    }
  }
  return tokens;
}

/** The text of every SELECT list and RETURNING clause in `sql`. */
export function readClauses(sql: string): string[] {
  const tokens = tokenize(sql);
  const clauses: string[] = [];
  tokens.forEach((token, position) => {
    if (token.kind !== 'word' || (token.text !== 'SELECT' && token.text !== 'RETURNING')) return;
    const stopWords = token.text === 'SELECT' ? ['FROM', 'INTO'] : [];
    let depth = 0;
    let end = sql.length;
    for (const next of tokens.slice(position + 1)) {
      if (next.kind === 'open') depth += 1;
      if (next.kind === 'close') {
        if (depth === 0) {
          end = next.start;
          break;
        }
        depth -= 1;
      }
      if (depth === 0 && (next.kind === 'semicolon' || (next.kind === 'word' && stopWords.includes(next.text)))) {
        end = next.start;
        break;
      }
    }
    clauses.push(sql.slice(token.end, end));
  });
  return clauses;
}

/** A select item `*` or `table.*` (not `count(*)`): every column of the table is read. */
const STAR_ITEM = /(^|,)\s*(("[^"]+"|[A-Za-z_][A-Za-z0-9_]*)\s*\.\s*)*\*\s*(,|$)/;

/** Which of `columns` a statement reads back (in a SELECT list or RETURNING clause). */
export function columnsRead(sql: string, columns: readonly string[]): string[] {
  const clauses = readClauses(sql);
  if (clauses.some((clause) => STAR_ITEM.test(clause))) return [...columns];
  return columns.filter((column) => {
    const pattern = new RegExp(`(^|[^A-Za-z0-9_])"?${column}"?($|[^A-Za-z0-9_])`);
    return clauses.some((clause) => pattern.test(clause));
  });
}
