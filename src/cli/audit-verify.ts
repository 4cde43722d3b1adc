// `npm run audit:verify [-- --org <uuid>]`: walks every organization's audit chain (or one's) and
// reports each break: a row whose fields no longer match its hash (edited), a gap in the positions
// or a previous hash that does not match (removed or inserted), a chain head that is not the newest
// row (removed from the end). Exit 0 when every chain holds, 1 otherwise.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { AuditLog } from '../audit/audit-log';
import { openDatabase } from '../db/database';
import { isUuid } from '../ids/uuid';
import { type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, loadCliConfig, processIo, runCli } from './cli-io';

export async function main(argv: string[], env: Record<string, string | undefined>, io: CliIo = processIo): Promise<number> {
  let organizationId: string | undefined;
  try {
    const { values } = parseArgs({ args: argv, options: { org: { type: 'string' } }, strict: true });
    organizationId = values.org;
    if (organizationId !== undefined && !isUuid(organizationId)) throw new Error('--org must be a UUID');
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\nUsage: audit-verify [--org <uuid>]\n`);
    return EXIT_USAGE;
  }
  const config = loadCliConfig('audit-verify', env, io);
  if (!config) return EXIT_USAGE;
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, deadlines: config.databaseDeadlines });
  try {
    const { events, organizations, problems } = await new AuditLog(database.prisma).verify(organizationId?.toLowerCase());
    for (const problem of problems) {
      io.stdout(
        `organization ${problem.organizationId}${problem.position === null ? '' : `, position ${problem.position}`}: ${problem.problem}\n`,
      );
    }
    io.stdout(
      `${events} events in ${organizations} chains: ${problems.length === 0 ? 'every chain holds' : `${problems.length} problems`}\n`,
    );
    return problems.length === 0 ? EXIT_OK : EXIT_FAILURE;
  } finally {
    await database.close();
  }
}

if (require.main === module) runCli('audit-verify', main);
