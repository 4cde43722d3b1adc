// Prisma CLI configuration. The service itself never reads this file: it builds its client
// from loadConfig() in src/main.ts.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/test' },
});
