import { AppError } from '../../http/errors.js';

/** Seconds for Retry-After: whole seconds, never 0 (a client told 0 would retry at once). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Error factories of the shield (codes are part of the API: never rename them). */
export const shieldErrors = {
  /** 429: a rate limit refused the request; nothing was charged. */
  rateLimited: (retryAfterMs: number, headers: Record<string, string> = {}) =>
    new AppError(
      429,
      'RATE_LIMITED',
      'Too many requests',
      'Too many requests: slow down and retry after the time in Retry-After',
      {
        headers: { ...headers, 'retry-after': String(retryAfterSeconds(retryAfterMs)) },
      },
    ),
  /** 403: the client is blocked (automatically after repeated violations, or by the deny list). */
  clientBlocked: (retryAfterMs: number | null) =>
    new AppError(
      403,
      'CLIENT_BLOCKED',
      'Forbidden',
      'This client is blocked after repeated violations of the request limits',
      {
        headers: retryAfterMs === null ? {} : { 'retry-after': String(retryAfterSeconds(retryAfterMs)) },
      },
    ),
  denied: () => new AppError(403, 'CLIENT_BLOCKED', 'Forbidden', 'This client is not allowed to use this service'),
  /** 503: a fail-closed policy cannot be decided while the shared store is unreachable. */
  limiterUnavailable: () =>
    new AppError(
      503,
      'SERVICE_UNAVAILABLE',
      'Service unavailable',
      'Rate limiting is temporarily unavailable for this operation',
      {
        headers: { 'retry-after': '5' },
      },
    ),
  /** 503: the server is overloaded (event-loop lag) and sheds new work. */
  overloaded: (retryAfterS: number) =>
    new AppError(
      503,
      'SERVICE_UNAVAILABLE',
      'Service unavailable',
      'The server is overloaded; retry after the time in Retry-After',
      {
        headers: { 'retry-after': String(retryAfterS) },
      },
    ),
  payloadTooLarge: (max: number) =>
    new AppError(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', `The request body is larger than ${max} bytes`, {
      // The rest of the body is not read: the connection is closed, by lingering
      // (./lingering-close.ts), so a client still sending can read this answer.
      headers: { connection: 'close' },
    }),
};
