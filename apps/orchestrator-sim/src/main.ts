import { serve } from '@hono/node-server';
import { BridgeError, createLogger, loadRoutesFile } from '@rpa-bridge/core';
import { loadSimConfig } from './config.js';
import { createSimulator } from './server.js';

let config: ReturnType<typeof loadSimConfig>;
let routes: ReturnType<typeof loadRoutesFile> | undefined;
try {
  config = loadSimConfig(process.env);
  routes = config.routesFile ? loadRoutesFile(config.routesFile) : undefined;
} catch (err) {
  process.stderr.write(
    `orchestrator simulator: cannot start\n${err instanceof BridgeError ? err.message : String(err)}\n`,
  );
  process.exit(1);
}

const logger = createLogger({ level: config.logLevel, name: 'orchestrator-sim' });
const sim = createSimulator({
  settings: { ...config.settings },
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  routes,
});

const server = serve({ fetch: sim.app.fetch, port: config.port, hostname: config.host }, (info) => {
  const url = `http://127.0.0.1:${info.port}`;
  logger.info(
    {
      url,
      tokenUrl: `${url}/identity_/connect/token`,
      clientId: config.clientId,
      folders: sim.state.folders.map((f) => f.FullyQualifiedName),
      processes: sim.state.releases.map((r) => r.ProcessKey),
      queues: sim.state.queues.map((q) => q.Name),
      robots: config.settings.robots,
      jobMs: config.settings.jobMs,
    },
    'UiPath Orchestrator SIMULATOR listening (not a real tenant)',
  );
  const creds = config.defaultCredentials
    ? `client id: ${config.clientId}\nclient secret: ${config.clientSecret} (the built-in default; set SIM_CLIENT_ID / SIM_CLIENT_SECRET to change)`
    : `client id: ${config.clientId} (secret from SIM_CLIENT_SECRET)`;
  process.stdout.write(
    `\n*** UiPath Orchestrator SIMULATOR ***\nOrchestrator: ${url}  (also ${url}/{org}/{tenant}/orchestrator_)\ntoken URL:    ${url}/identity_/connect/token\n${creds}\n\n`,
  );
});

function shutdown(signal: string) {
  logger.info({ signal }, 'simulator stopping');
  sim.state.reset();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
