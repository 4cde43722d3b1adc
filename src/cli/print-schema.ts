// `npm run schema:print`: writes the subgraph SDL this server serves (what `_service { sdl }`
// answers, the text a supergraph composes) to schema.graphql at the project root. A test fails
// whenever the committed file differs from it.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { graphql } from 'graphql';
import { findProjectRoot } from '../db/project-paths';
import { createSchema } from '../schema';

export async function printServedSchema(): Promise<string> {
  const result = await graphql({ schema: await createSchema(), source: '{ _service { sdl } }' });
  const sdl = (result.data?._service as { sdl?: unknown } | undefined)?.sdl;
  if (result.errors?.length || typeof sdl !== 'string') {
    throw new Error(`the subgraph did not print its SDL: ${result.errors?.map((error) => error.message).join('; ') ?? 'no sdl'}`);
  }
  return `${sdl.trimEnd()}\n`;
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
