// `npm run embedded:prepare` (run by `npm start` before the service): builds the embedded
// database's template once, so that a first start on an empty DATA_DIR copies a migrated cluster
// instead of creating one (src/db/embedded-template.ts). Does nothing when the template is current
// or PGlite is not installed.
import { prepareEmbeddedDatabaseTemplate } from '../db/database';
import { defaultEmbeddedTemplateDir } from '../db/embedded-template';
import { type CliIo, EXIT_OK, processIo, runCli } from './cli-io';

export async function main(_argv: string[], _env: Record<string, string | undefined>, io: CliIo = processIo): Promise<number> {
  const templateDir = defaultEmbeddedTemplateDir();
  const started = performance.now();
  const outcome = await prepareEmbeddedDatabaseTemplate(templateDir);
  if (outcome === 'created') {
    io.stdout(`embedded database template prepared in ${templateDir} (${Math.round(performance.now() - started)} ms)\n`);
  } else if (outcome === 'unavailable') {
    io.stdout('PGlite is not installed: no embedded database template to prepare\n');
  }
  return EXIT_OK;
}

if (require.main === module) runCli('embedded-template', main);
