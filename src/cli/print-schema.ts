// `npm run schema:print`: writes the schema this server serves to schema.graphql at the project
// root. A test fails whenever the committed file differs from what the server would print.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { findProjectRoot } from '../db/project-paths';
import { createSchema } from '../schema';

export async function printServedSchema(): Promise<string> {
  return `${printSchema(await createSchema())}\n`;
}

if (require.main === module) {
  printServedSchema()
    .then((sdl) => {
      const file = path.join(findProjectRoot(), 'schema.graphql');
      writeFileSync(file, sdl);
      process.stderr.write(`wrote ${file}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
