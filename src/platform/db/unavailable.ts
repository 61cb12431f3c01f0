/**
 * The one place that decides whether a database error means "the database cannot be reached right
 * now" (a restart, a crash, a network cut, a full connection table) rather than "this statement is
 * wrong". The pg driver reports these three ways: a SQLSTATE from the server as it goes away, a
 * Node socket error, or a message of its own when a connection dies under it. The db layer turns
 * each of them into a `DatabaseUnavailableError`, which the HTTP error handler answers with
 * 503 `DATABASE_UNAVAILABLE` and a Retry-After (never a 500 with the driver's words), and which
 * jobs treat as "try again on the next tick".
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  constructor(cause: unknown) {
    super('The database is unavailable', { cause });
  }
}

const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: fast or smart shutdown, pg_terminate_backend
  '57P02', // crash_shutdown: another backend crashed, the server restarts
  '57P03', // cannot_connect_now: the server is starting or shutting down
  '53300', // too_many_connections
]);
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** pg's own messages for a connection that died or never came (pg 8, pg-pool 3). */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Connection terminated due to connection timeout)/;

export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Class 08: connection exception (08000, 08003, 08006, 08001, 08004, ...).
    if (code.startsWith('08') && code.length === 5) return true;
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code)) return true;
  }
  if (UNAVAILABLE_MESSAGE.test(err.message)) return true;
  // pg-pool wraps a failed connect in an AggregateError for multi-address hosts.
  if (err instanceof AggregateError) return err.errors.some(isDatabaseUnavailable);
  return false;
}

/** The error as the db layer throws it: unavailability as one type, anything else unchanged. */
export function classifyDatabaseError(err: unknown): unknown {
  return !(err instanceof DatabaseUnavailableError) && isDatabaseUnavailable(err)
    ? new DatabaseUnavailableError(err)
    : err;
}
