// A minimal raw-SQL session used by the migration runner and readiness checks: Prisma's prepared
// statements cannot run a multi-statement migration file, so migrations go through the driver.
import type { PGlite } from '@electric-sql/pglite';
import type { Client } from 'pg';

export interface SqlSession {
  /** One parameterized statement. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A script of one or more statements, without parameters. */
  execute(script: string): Promise<void>;
}

export function pgSession(client: Client): SqlSession {
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
    async execute(script: string) {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await client.query(script);
    },
  };
}

export function pgliteSession(db: PGlite): SqlSession {
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      const result = await db.query<Row>(sql, params);
      return result.rows;
    },
    async execute(script: string) {
      await db.exec(script);
    },
  };
}
