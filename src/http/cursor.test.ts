/** The keyset pagination helpers every list uses (src/http/cursor.ts). */
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { cursorAfter, encodeCursor, keysetPage } from './cursor.js';

const ID = '0190f5c2-7a3e-7b1c-9d4e-2f6a8b0c1d2e';

describe('keysetPage', () => {
  const rows = [1, 2, 3].map((n) => ({ id: `id-${n}`, position: n }));

  it('the extra row means a next page, with a cursor after the last item shown', () => {
    const page = keysetPage(rows, 2, (r) => [r.position, r.id]);
    expect(page.items).toEqual(rows.slice(0, 2));
    expect(cursorAfter(page.nextCursor ?? undefined, ['number', 'string'])).toEqual([2, 'id-2']);
  });

  it('no extra row: the last page, no cursor', () => {
    expect(keysetPage(rows, 3, (r) => [r.id])).toEqual({ items: rows, nextCursor: null });
    expect(keysetPage([], 3, () => [])).toEqual({ items: [], nextCursor: null });
  });
});

describe('cursorAfter', () => {
  it('no cursor: the first page', () => {
    expect(cursorAfter(undefined, ['uuid'])).toBeUndefined();
  });

  it('a cursor of the shape is typed by it', () => {
    const decoded = cursorAfter(encodeCursor([3, ID]), ['number', 'uuid']);
    expect(decoded).toEqual([3, ID]);
  });

  it.each([
    ['not base64 JSON', 'not-json', ['uuid']],
    ['the wrong length', encodeCursor([ID, 1]), ['uuid']],
    ['a number for a uuid', encodeCursor([1]), ['uuid']],
    ['a string that is not a uuid', encodeCursor(["1' or 1=1"]), ['uuid']],
    ['an unsafe integer', encodeCursor([2 ** 60]), ['number']],
  ] as const)('%s is 400 INVALID_CURSOR', (_what, cursor, shape) => {
    let thrown: unknown;
    try {
      cursorAfter(cursor, shape);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ status: 400, code: 'INVALID_CURSOR' });
  });
});
