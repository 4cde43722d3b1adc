// `npm run keys:rotate` / `npm run keys:retire -- --version N` / `npm run keys:list`: manages the
// development key ring under DATA_DIR. Rotation adds a primary version (older ones still
// unwrap); retiring refuses while any stored data key still needs the version.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { AuditLog, SYSTEM_ORGANIZATION_ID } from '../audit/audit-log';
import { openDatabase } from '../db/database';
import { EnvelopeCipher } from '../secrets/envelope';
import { LOCAL_KEY_ID_PREFIX, LocalKeyring } from '../secrets/local-keyring';
import { SecretStore } from '../secrets/secret-store';
import { type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, loadCliConfig, processIo, runCli } from './cli-io';
const USAGE = 'Usage: key-ring rotate | retire --version N | list';

export async function main(argv: string[], env: Record<string, string | undefined>, io: CliIo = processIo): Promise<number> {
  let command: string | undefined;
  let version: number | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { version: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    command = positionals[0];
    if (values.version !== undefined) version = Number(values.version);
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (
    !['rotate', 'retire', 'list'].includes(command ?? '') ||
    (command === 'retire' && (!Number.isInteger(version) || (version ?? 0) < 1))
  ) {
    io.stderr(`${USAGE}\n`);
    return EXIT_USAGE;
  }
  const config = loadCliConfig('key-ring', env, io);
  if (!config) return EXIT_USAGE;
  if (config.kmsKeyName) {
    io.stderr(
      'KMS_KEY_NAME is set: rotate the Cloud KMS key in Google Cloud (a new primary CryptoKeyVersion), then run `npm run secrets:rewrap`; retire the old version in Cloud KMS once the rewrap reports nothing left under it.\n',
    );
    return EXIT_USAGE;
  }
  const ring = await LocalKeyring.open(config.dataDir, { production: config.production });

  // Every command opens the database, rotate included: the rotation is an audit event.
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, deadlines: config.databaseDeadlines });
  const audit = new AuditLog(database.prisma);
  const recordKeyRing = (action: 'key_ring.rotated' | 'key_ring.retired', keyVersion: number) =>
    audit.record({
      organizationId: SYSTEM_ORGANIZATION_ID,
      actor: `system:keys-${command ?? ''}`,
      action,
      targetType: 'key_ring',
      targetId: `${LOCAL_KEY_ID_PREFIX}${keyVersion}`,
      details: { version: keyVersion },
    });
  try {
    if (command === 'rotate') {
      const added = ring.rotate();
      await recordKeyRing('key_ring.rotated', added);
      io.stdout(`key version ${added} is now primary; run \`npm run secrets:rewrap\` to move existing data keys to it\n`);
      return EXIT_OK;
    }
    const counts = await new SecretStore(database.prisma, new EnvelopeCipher(ring)).wrappedKeyCounts();
    if (command === 'list') {
      for (const info of ring.versions()) {
        const keyId = `${LOCAL_KEY_ID_PREFIX}${info.version}`;
        io.stdout(`${keyId}${info.primary ? ' (primary)' : ''} created ${info.createdAt}: ${counts.get(keyId) ?? 0} data keys\n`);
      }
      return EXIT_OK;
    }
    const keyId = `${LOCAL_KEY_ID_PREFIX}${version}`;
    const stillUsing = counts.get(keyId) ?? 0;
    if (stillUsing > 0) {
      io.stderr(`refusing to retire ${keyId}: ${stillUsing} stored data keys still need it; run \`npm run secrets:rewrap\` first\n`);
      return EXIT_FAILURE;
    }
    ring.retire(version as number);
    await recordKeyRing('key_ring.retired', version as number);
    io.stdout(`retired ${keyId}\n`);
    return EXIT_OK;
  } finally {
    await database.close();
  }
}

if (require.main === module) runCli('key-ring', main);
