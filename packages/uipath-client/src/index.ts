export * from './client.js';
export * from './errors.js';
export * from './folders.js';
export type { FetchLike, FetchResponse } from './http.js';
export * from './pacing.js';
export * from './token.js';
export * from './types.js';
