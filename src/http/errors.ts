/**
 * RFC 9457 problem details. Every error a client sees is an AppError with a stable UPPER_SNAKE
 * code; anything else is turned into a generic 500 that shows no internals.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  /** Field-level problems for validation errors. */
  errors?: { path: string; message: string }[];
  /** Seconds to wait before trying again: the Retry-After header's value, for every answer that has one. */
  retryAfter?: number;
  [extension: string]: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    title: string,
    detail?: string,
    options: { headers?: Record<string, string>; extensions?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** The `type` URI: a stable, documented identifier per code. */
export function problemType(code: string): string {
  return `https://portfolio-backend.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;
}

/** Error factories shared by every module (module-specific ones live in the module's errors.ts). */
export const httpErrors = {
  badRequest: (detail: string, code = 'BAD_REQUEST') => new AppError(400, code, 'Bad request', detail),
  validation: (detail: string, errors: { path: string; message: string }[] = []) =>
    new AppError(400, 'VALIDATION_FAILED', 'Request validation failed', detail, { extensions: { errors } }),
  unauthorized: (detail = 'Authentication is required', code = 'UNAUTHORIZED') =>
    new AppError(401, code, 'Unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } }),
  forbidden: (detail = 'You may not do this', code = 'FORBIDDEN') => new AppError(403, code, 'Forbidden', detail),
  notFound: (what = 'Resource', code = 'NOT_FOUND') => new AppError(404, code, 'Not found', `${what} not found`),
  conflict: (detail: string, code = 'CONFLICT') => new AppError(409, code, 'Conflict', detail),
  payloadTooLarge: (detail = 'The request body is too large') =>
    new AppError(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', detail),
  unsupportedMediaType: (detail = 'Send the body as application/json') =>
    new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', detail),
  unavailable: (detail: string, retryAfterSeconds = 5) =>
    new AppError(503, 'SERVICE_UNAVAILABLE', 'Service unavailable', detail, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  /** A full disk or quota (see isStorageFull): 507, never a 500 with the file system's words. */
  insufficientStorage: (cause?: unknown) =>
    new AppError(
      507,
      'INSUFFICIENT_STORAGE',
      'Insufficient storage',
      'The server has no space left to store this; nothing was kept, try again later',
      { headers: { 'retry-after': '60' }, cause },
    ),
};

const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/**
 * The one test for "the disk (or the user's quota) is full": ENOSPC or EDQUOT on the error or on
 * any error in its `cause` chain. The error handler answers it with 507 `INSUFFICIENT_STORAGE`;
 * uploads end the file `rejected` with that code; `backup create` says it in one sentence.
 */
export function isStorageFull(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && STORAGE_FULL_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
