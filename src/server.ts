import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/index.js';
import { loadEnvFile } from './config/env-file.js';
import { securityTxtExpiryWarning } from './http/security-txt.js';
import { closePlatform, openPlatform } from './platform/bootstrap.js';
import { useOptimizingWasmCompiler } from './platform/db/pglite.js';

/** Process entry: read config, build the app, listen, drain on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  loadEnvFile();
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  // The embedded database's WASM, compiled for a process that lives long (platform/db/pglite.ts).
  if (!config.DATABASE_URL) useOptimizingWasmCompiler();
  const deps = await openPlatform(config);
  const app = await buildApp(deps);
  const expiryWarning = securityTxtExpiryWarning(config);
  if (expiryWarning) app.log.warn(expiryWarning);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: draining in-flight requests');
    const force = setTimeout(() => {
      app.log.error('drain timed out, exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT * 1000);
    force.unref();
    app
      .close()
      .then(() => closePlatform(deps))
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ host: config.HOST, port: config.PORT });
  app.log.info(
    { database: deps.db.kind, kv: deps.kv.kind, dataDir: config.DATA_DIR, publicUrl: app.publicUrl.href },
    'portfolio backend ready',
  );
  if (config.NODE_ENV === 'production' && app.publicUrl.derived) {
    app.log.warn(
      { publicUrl: app.publicUrl.href },
      'PUBLIC_URL is not set: links (mails, media) point to this loopback address',
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
