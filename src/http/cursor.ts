import { isUuid } from '../platform/ids.js';
import { AppError } from './errors.js';

/**
 * Keyset pagination, written once for every list. A cursor is opaque: base64url of a JSON array
 * of the sort key values of the last item of a page. Decoding checks the shape, so a tampered
 * cursor is a 400 INVALID_CURSOR, never a SQL error.
 *
 * A list asks its repository for `limit + 1` rows after `cursorAfter(cursor, shape)` and answers
 * `keysetPage(rows, limit, keyOf)`: the extra row only tells that there is a next page.
 */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export type CursorPart = 'string' | 'number' | 'uuid';

/** The decoded values of a cursor of this shape: a number for 'number', a string otherwise. */
export type CursorValues<S extends readonly CursorPart[]> = {
  -readonly [I in keyof S]: S[I] extends 'number' ? number : string;
};

function decodeCursor(cursor: string | undefined, shape: readonly CursorPart[]): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw invalidCursor();
  parsed.forEach((v, i) => {
    const kind = shape[i];
    if (typeof v !== (kind === 'uuid' ? 'string' : kind)) throw invalidCursor();
    // Ids go into uuid-typed SQL parameters: a non-uuid would be a database error, not a 400.
    if (kind === 'uuid' && !isUuid(v as string)) throw invalidCursor();
    if (typeof v === 'string' && v.length > 100) throw invalidCursor();
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw invalidCursor();
  });
  return parsed as (string | number)[];
}

/**
 * The sort key values a page starts after, typed by the shape (`['number', 'uuid']` gives
 * `[number, string]`); undefined for the first page. A cursor of another shape is a 400.
 */
export function cursorAfter<const S extends readonly CursorPart[]>(
  cursor: string | undefined,
  shape: S,
): CursorValues<S> | undefined {
  return decodeCursor(cursor, shape) as CursorValues<S> | undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * One page from the `limit + 1` rows a keyset query returned: the first `limit` rows, and a
 * cursor after the last of them when the extra row shows there is more.
 */
export function keysetPage<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (last: T) => readonly (string | number)[],
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

/** 400 INVALID_CURSOR: also for a cursor of the right shape whose values are out of range. */
export function invalidCursor(): AppError {
  return new AppError(400, 'INVALID_CURSOR', 'Bad request', 'The cursor is not valid');
}
