import { AppError } from './errors.js';

/**
 * Opaque keyset cursors: base64url of a JSON array of the sort key values of the last item.
 * Decoding checks the shape, so a tampered cursor is a 400, never a SQL error.
 */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, shape: readonly ('string' | 'number')[]): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw invalid();
  parsed.forEach((v, i) => {
    if (typeof v !== shape[i]) throw invalid();
    if (typeof v === 'string' && v.length > 100) throw invalid();
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw invalid();
  });
  return parsed as (string | number)[];
}

function invalid(): AppError {
  return new AppError(400, 'INVALID_CURSOR', 'Bad request', 'The cursor is not valid');
}
