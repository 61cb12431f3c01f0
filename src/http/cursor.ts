import { isUuid } from '../platform/ids.js';
import { AppError } from './errors.js';

/**
 * Opaque keyset cursors: base64url of a JSON array of the sort key values of the last item.
 * Decoding checks the shape, so a tampered cursor is a 400, never a SQL error.
 */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export type CursorPart = 'string' | 'number' | 'uuid';

export function decodeCursor(cursor: string | undefined, shape: readonly CursorPart[]): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw invalid();
  parsed.forEach((v, i) => {
    const kind = shape[i];
    if (typeof v !== (kind === 'uuid' ? 'string' : kind)) throw invalid();
    // Ids go into uuid-typed SQL parameters: a non-uuid would be a database error, not a 400.
    if (kind === 'uuid' && !isUuid(v as string)) throw invalid();
    if (typeof v === 'string' && v.length > 100) throw invalid();
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw invalid();
  });
  return parsed as (string | number)[];
}

function invalid(): AppError {
  return new AppError(400, 'INVALID_CURSOR', 'Bad request', 'The cursor is not valid');
}
