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

/** JSON logs with redaction on; `destination` lets tests capture every line. */
export function createLogger(opts: { level: string; name: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      name: opts.name,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      base: { service: opts.name },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
