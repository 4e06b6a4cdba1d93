/**
 * One error contract for every Orchestrator call. `kind` is what the worker
 * needs to decide the next step:
 * - `retryable`: the request was not processed (429, never sent, token endpoint down): retry.
 * - `ambiguous`: the request was sent and may have been processed (408, 5xx, timeout,
 *   reset): look the Reference up before retrying a start.
 * - `permanent`: retrying cannot help (400, 403, 404, 409, 413, 422, bad input).
 */
export type ErrorKind = 'retryable' | 'ambiguous' | 'permanent';

export type Operation =
  | 'token'
  | 'releases'
  | 'folders'
  | 'startJob'
  | 'getJob'
  | 'findJobs'
  | 'addQueueItem'
  | 'findQueueItems';

export interface OrchestratorErrorDetails {
  kind: ErrorKind;
  operation: Operation;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Orchestrator's `errorCode` (e.g. 1101 missing folder, 1100 unknown folder, 1016 duplicate reference). */
  errorCode?: number;
  traceId?: string;
  /** From `Retry-After`, when the server sent one. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class OrchestratorError extends Error {
  readonly code = 'orchestrator_error';
  readonly kind: ErrorKind;
  readonly operation: Operation;
  readonly status: number | undefined;
  readonly errorCode: number | undefined;
  readonly traceId: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, d: OrchestratorErrorDetails) {
    super(message, d.cause === undefined ? undefined : { cause: d.cause });
    this.name = 'OrchestratorError';
    this.kind = d.kind;
    this.operation = d.operation;
    this.status = d.status;
    this.errorCode = d.errorCode;
    this.traceId = d.traceId;
    this.retryAfterMs = d.retryAfterMs;
  }

  /** `startJob 400 errorCode=1101 traceId=…: A folder is required for this action.` (no request data). */
  describe(): string {
    const parts: string[] = [this.operation, this.status === undefined ? 'no-response' : String(this.status)];
    if (this.errorCode !== undefined) parts.push(`errorCode=${this.errorCode}`);
    if (this.traceId) parts.push(`traceId=${this.traceId}`);
    return `${parts.join(' ')}: ${this.message}`;
  }
}

export const isOrchestratorError = (e: unknown): e is OrchestratorError => e instanceof OrchestratorError;

const PERMANENT = new Set([400, 403, 404, 409, 413, 422]);

/**
 * The one table deciding retry behaviour from an HTTP status (SPEC §5).
 * `idempotent` requests (GETs, the token call) can never be ambiguous.
 */
export function kindForStatus(status: number, idempotent: boolean): ErrorKind {
  if (status === 429) return 'retryable';
  if (status === 401) return 'retryable'; // rejected unprocessed; the client already refreshed once
  if (status === 408 || status >= 500) return idempotent ? 'retryable' : 'ambiguous';
  if (PERMANENT.has(status)) return 'permanent';
  return 'permanent';
}

/** Connection errors that prove the request never left this process. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
]);

export function kindForNetworkError(err: unknown, idempotent: boolean): ErrorKind {
  const code = networkCode(err);
  if (code !== undefined && NOT_SENT.has(code)) return 'retryable';
  return idempotent ? 'retryable' : 'ambiguous';
}

export function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** `Retry-After` as seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Reads `{message, errorCode, traceId}` or the ABP envelope `{success:false, error:{message,code}}`. */
export function parseErrorBody(text: string): { message?: string; errorCode?: number; traceId?: string } {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const err = (body.error && typeof body.error === 'object' ? body.error : {}) as Record<string, unknown>;
    const message =
      typeof body.message === 'string'
        ? body.message
        : typeof err.message === 'string'
          ? err.message
          : typeof body.error_description === 'string'
            ? body.error_description
            : typeof body.error === 'string'
              ? body.error
              : typeof body.errorMessage === 'string'
                ? body.errorMessage
                : undefined;
    const code =
      typeof body.errorCode === 'number' ? body.errorCode : typeof err.code === 'number' ? err.code : undefined;
    const out: { message?: string; errorCode?: number; traceId?: string } = {};
    if (message !== undefined) out.message = message.slice(0, 500);
    if (code !== undefined) out.errorCode = code;
    if (typeof body.traceId === 'string') out.traceId = body.traceId;
    return out;
  } catch {
    return {};
  }
}
