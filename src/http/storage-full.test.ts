/**
 * A full disk or quota (ENOSPC, EDQUOT), wherever it comes from, is answered 507
 * INSUFFICIENT_STORAGE, never a 500 with the file system's words (test/faults/disk-full.test.ts
 * shows it end to end on a full tmpfs).
 */
import { describe, expect, it } from 'vitest';
import { isStorageFull } from './errors.js';
import { toAppError } from './problem-plugin.js';

const fsError = (code: string) =>
  Object.assign(new Error(`${code}: no space left on device, write '/srv/data/upload-staging/x.upload'`), { code });

describe('a full disk is a 507', () => {
  it('maps ENOSPC and EDQUOT, also as the cause of another error, to INSUFFICIENT_STORAGE', () => {
    for (const err of [fsError('ENOSPC'), fsError('EDQUOT'), new Error('put failed', { cause: fsError('ENOSPC') })]) {
      expect(isStorageFull(err)).toBe(true);
      const mapped = toAppError(err);
      expect([mapped.status, mapped.code]).toEqual([507, 'INSUFFICIENT_STORAGE']);
      expect(mapped.message).not.toMatch(/ENOSPC|EDQUOT|\/srv/);
    }
  });

  it('leaves other file system errors alone', () => {
    for (const code of ['EACCES', 'EIO', 'ENOENT']) {
      expect(isStorageFull(fsError(code))).toBe(false);
      expect(toAppError(fsError(code)).status).toBe(500);
    }
  });
});
