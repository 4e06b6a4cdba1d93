import { BridgeError, type ErrorCode } from '@rpa-bridge/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The one table from error codes to HTTP statuses (SPEC §2.2). */
const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  invalid_json: 400,
  invalid_payload: 400,
  unauthorized: 401,
  forbidden: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  no_route: 422,
  overloaded: 429,
  unavailable: 503,
};

/** Seconds a sender should wait before retrying a 429 or 503. */
export const RETRY_AFTER_SECONDS = { overloaded: 5, unavailable: 2 } as const;

export interface ErrorBody {
  error: string;
  message: string;
  correlationId?: string;
  issues?: { path: string; message: string }[];
}

/**
 * Every error body is `{error, message, correlationId?, issues?}`; messages are
 * written by us and never echo request values (they may be PII).
 */
export function errorResponse(c: Context, err: BridgeError, correlationId?: string): Response {
  const status = STATUS[err.code] ?? 500;
  const body: ErrorBody = { error: err.code, message: err.message };
  if (correlationId !== undefined) body.correlationId = correlationId;
  if (err.issues) body.issues = err.issues.map((i) => ({ path: i.path, message: i.message }));
  if (err.code === 'overloaded' || err.code === 'unavailable') {
    c.header('Retry-After', String(RETRY_AFTER_SECONDS[err.code]));
  }
  if (err.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer realm="rpa-bridge"');
  // The rest of an oversized body is never read: close the connection instead of draining it.
  if (err.code === 'payload_too_large') c.header('Connection', 'close');
  return c.json(body, status);
}

export const statusOf = (err: BridgeError): number => STATUS[err.code] ?? 500;

export { BridgeError };
