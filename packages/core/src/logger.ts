import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths pino masks before serialising; the redaction module handles values. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.clientSecret',
  '*.apiKey',
  'body',
  '*.body',
];

/**
 * JSON logs with redaction on; `destination` lets tests capture every line.
 * The default writes to stdout asynchronously in 4 KiB chunks (flushed at
 * least every second and on exit): one write per request line was a tenth of
 * the receiver's CPU.
 */
export function createLogger(opts: { level: string; name: string; destination?: DestinationStream }): Logger {
  let destination = opts.destination;
  if (!destination) {
    const stdout = pino.destination({ dest: 1, sync: false, minLength: 4096 });
    setInterval(() => stdout.flush(), 1000).unref();
    process.once('exit', () => stdout.flushSync());
    destination = stdout;
  }
  return pino(
    {
      level: opts.level,
      name: opts.name,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      base: { service: opts.name },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
