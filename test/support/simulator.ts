import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Route } from '@rpa-bridge/core';
import { createSimulator, type Simulator } from '../../apps/orchestrator-sim/src/server.js';
import type { SimSettings } from '../../apps/orchestrator-sim/src/state.js';

export const SIM_CLIENT = { clientId: 'test-client', clientSecret: 'test-secret' };

export interface TestSimulator {
  url: string;
  sim: Simulator;
  close(): Promise<void>;
}

/** The Orchestrator simulator on a real loopback socket. */
export async function startTestSimulator(
  opts: { routes?: Route[]; settings?: Partial<SimSettings> } = {},
): Promise<TestSimulator> {
  const settings: SimSettings = {
    robots: 4,
    jobMs: 50,
    tokenTtlSeconds: 3600,
    collectionLimitPerMinute: 10_000,
    rateLimitRetryAfterSeconds: 0,
    duplicateReferenceStatus: 409,
    ...opts.settings,
  };
  const simOptions: Parameters<typeof createSimulator>[0] = { settings, ...SIM_CLIENT };
  if (opts.routes) simOptions.routes = opts.routes;
  const sim = createSimulator(simOptions);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: sim.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sim,
    async close() {
      sim.state.reset();
      await new Promise<void>((r) => {
        server.close(() => r());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}
