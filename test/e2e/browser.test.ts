import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toJobId } from '@rpa-bridge/core';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flatEvent, post, startTestReceiver, type TestReceiver, testRoutes } from '../support/receiver.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { eventually, startTestWorker, type TestWorker } from '../support/worker.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR;

describe('operator page and Bull Board in headless Chromium', () => {
  let browser: Browser;
  let receiver: TestReceiver;
  let sim: TestSimulator;
  let worker: TestWorker;
  const ev = flatEvent();
  const correlationId = ev.correlationId as string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    sim = await startTestSimulator({ routes: testRoutes() });
    receiver = await startTestReceiver({ redisUrl: inject('redisUrl') });
    worker = await startTestWorker({
      redisUrl: inject('redisUrl'),
      prefix: receiver.prefix,
      routes: testRoutes(),
      simUrl: sim.url,
    });
    sim.sim.faults.add({ operation: 'startJobs', mode: 'reject', status: 400 });
    expect((await post(receiver.url, ev)).status).toBe(202);
    const queue = worker.running.queues.get('billing-account-update');
    await eventually(
      async () => (await (await queue?.getJob(toJobId(correlationId)))?.isFailed()) ?? false,
      15_000,
      'dead letter',
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    await receiver?.close();
    await sim?.close();
  });

  it('refuses the operator page without admin credentials', async () => {
    const context = await browser.newContext();
    const api = await context.request.get(`${receiver.url}/admin/transactions`);
    expect(api.status()).toBe(401);
    expect(api.headers()['www-authenticate']).toMatch(/^Basic/);
    // Chromium answers a Basic challenge it cannot meet headless with a navigation error, not a page
    const page = await context.newPage();
    const loaded = await page.goto(`${receiver.url}/admin/transactions`).then(
      (res) => res?.status(),
      (err: Error) => err.message,
    );
    expect(String(loaded)).toMatch(/^401$|ERR_INVALID_AUTH_CREDENTIALS/);
    await context.close();
  });

  it('shows the dead-lettered transaction, then opens it in Bull Board', async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: 'Bearer admin-token' } });
    const page = await context.newPage();
    const res = await page.goto(`${receiver.url}/admin/transactions`);
    expect(res?.status()).toBe(200);
    await page.fill('input[name=correlationId]', correlationId);
    await page.click('button[type=submit]');
    await page.waitForSelector('#timeline');
    expect(await page.textContent('#state')).toBe('failed');
    expect(await page.textContent('#failure')).toMatch(
      /^startJob 400 errorCode=1000 traceId=00-[0-9a-f-]+: Invalid request!$/,
    );
    const events = await page.$$eval('#timeline td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
    expect(events).toEqual(['received', 'enqueued', 'dead-lettered']);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'operator-page.png'), fullPage: true });

    await page.click('#board-link');
    await page.waitForURL(/\/admin\/queues\/queue\/billing-account-update\//);
    // Bull Board is a client-side app: wait until it has fetched and rendered the failed job
    await page.waitForFunction("document.body.textContent.includes('Invalid request!')", undefined, {
      timeout: 20_000,
    });
    expect(await page.textContent('body')).toContain(toJobId(correlationId));
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'bull-board-job.png'), fullPage: true });
    await context.close();
  });
});
