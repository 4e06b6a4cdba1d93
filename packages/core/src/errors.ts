/**
 * Expected failures carry a stable `code`; one place per app maps codes to
 * HTTP statuses. Programmer errors stay plain `Error`.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'routes_invalid'
  | 'invalid_json'
  | 'invalid_payload'
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'no_route'
  | 'overloaded'
  | 'unavailable'
  | 'decrypt_failed';

/** A field path and what is wrong with it; never the value (it may be PII). */
export interface Issue {
  path: string;
  message: string;
}

export class BridgeError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly Issue[] | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; issues?: Issue[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BridgeError';
    this.code = code;
    this.issues = options.issues;
  }
}

export const isBridgeError = (err: unknown, code?: ErrorCode): err is BridgeError =>
  err instanceof BridgeError && (code === undefined || err.code === code);
