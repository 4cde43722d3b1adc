// Entry point: read the environment once, start the application, stop cleanly on signals.
import 'reflect-metadata';
import { developmentHints, startApplication } from './application';
import { ConfigError, loadConfig } from './config/config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  const app = await startApplication(config);
  for (const line of developmentHints(config, app.url)) process.stderr.write(`${line}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ event: 'stopping', signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`credential vault failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
