import type { IncomingMessage } from 'node:http';
import { BridgeError } from '@rpa-bridge/core';

/**
 * Reads the body straight from Node's request when there is one (no web
 * stream is materialised: that costs more than the rest of ingest), else from
 * the fetch Request (tests with `app.request()`, other runtimes).
 */
export function readRequestBody(
  incoming: IncomingMessage | undefined,
  req: Request,
  limit: number,
): Promise<Uint8Array> {
  return incoming && typeof incoming.on === 'function' ? readIncoming(incoming, limit) : readBody(req, limit);
}

function readIncoming(incoming: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = incoming.headers['content-length'];
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit)
    return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        cleanup();
        incoming.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    // No cleanup on success: the request is done and its listeners go with it.
    const onEnd = () => {
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new BridgeError('invalid_json', 'the request body could not be read', { cause: err }));
    };
    const onAborted = () => onError(new Error('aborted'));
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('aborted', onAborted);
  });
}

/**
 * Reads the raw body bytes, stopping as soon as `limit` is passed: a huge or
 * endless body is refused while it streams in, not after it was buffered.
 */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) throw tooLarge(limit);
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

const tooLarge = (limit: number) => new BridgeError('payload_too_large', `the body is larger than ${limit} bytes`);

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parses JSON from bytes; invalid UTF-8 is malformed JSON too. */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    throw new BridgeError('invalid_json', 'the body is not valid JSON');
  }
}

/** `application/json` or any `application/*+json`, with optional parameters. */
export function isJsonContentType(header: string | undefined | null): boolean {
  if (!header) return false;
  const type = (header.split(';')[0] as string).trim().toLowerCase();
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}
