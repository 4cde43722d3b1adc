// `npm run secrets:rewrap [-- --batch-size N]`: re-wraps every stored data key under the key
// service's current primary key (local key ring or Cloud KMS), without changing any secret or
// its version. Run it after rotating the key; run it again to resume after an interruption.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { type DatabaseHandle, openDatabase } from '../db/database';
import { EnvelopeCipher } from '../secrets/envelope';
import { openKeyService } from '../secrets/open-key-service';
import { type RewrapReport, rewrapAll } from '../secrets/rewrap';
import { SecretStore } from '../secrets/secret-store';
import { type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, loadCliConfig, processIo, runCli } from './cli-io';

export function summarize(report: RewrapReport): string {
  const remaining = Object.entries(report.remaining);
  const lines = [
    `primary key: ${report.primaryKeyId}`,
    `rewrapped ${report.rewrapped}, already current ${report.alreadyCurrent}, changed concurrently ${report.changedConcurrently}, failed ${report.failed.length}`,
    ...report.failed.map((failure) => `failed: credential ${failure.credentialId} (${failure.keyId}): ${failure.reason}`),
    remaining.length === 0
      ? 'every data key is under the primary key: older key versions can be retired'
      : `still under older keys (do not retire these): ${remaining.map(([keyId, count]) => `${keyId} × ${count}`).join(', ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

export async function main(argv: string[], env: Record<string, string | undefined>, io: CliIo = processIo): Promise<number> {
  let batchSize = 100;
  try {
    const { values } = parseArgs({ args: argv, options: { 'batch-size': { type: 'string' } }, strict: true });
    if (values['batch-size'] !== undefined) {
      batchSize = Number(values['batch-size']);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new Error('--batch-size must be 1 to 10000');
    }
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\nUsage: rewrap-secrets [--batch-size N]\n`);
    return EXIT_USAGE;
  }
  const config = loadCliConfig('rewrap-secrets', env, io);
  if (!config) return EXIT_USAGE;
  const keyService = await openKeyService(config);
  let database: DatabaseHandle | undefined;
  try {
    database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, deadlines: config.databaseDeadlines });
    const store = new SecretStore(database.prisma, new EnvelopeCipher(keyService));
    const report = await rewrapAll(store, {
      batchSize,
      onProgress: (progress) => io.stderr(`processed ${progress.processed}: rewrapped ${progress.rewrapped}, failed ${progress.failed}\n`),
    });
    io.stdout(summarize(report));
    return report.failed.length === 0 ? EXIT_OK : EXIT_FAILURE;
  } finally {
    await database?.close();
    await keyService.close?.();
  }
}

if (require.main === module) runCli('rewrap-secrets', main);
