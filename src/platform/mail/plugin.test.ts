/** The mail plugin builds its mailer from the configuration. */
import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../test/helpers/app.js';

describe('mail plugin', () => {
  it('MAIL_RETRY_DELAY sets the first retry delay, which doubles per attempt up to an hour', async () => {
    const t = await buildTestApp({ MAIL_RETRY_DELAY: '5' });
    try {
      expect([1, 2, 3, 12].map((n) => t.app.mail.backoffMs(n))).toEqual([5_000, 10_000, 20_000, 3_600_000]);
    } finally {
      await t.close();
    }
  });

  it('retries after 30 s by default', async () => {
    const t = await buildTestApp();
    try {
      expect(t.app.mail.backoffMs(1)).toBe(30_000);
    } finally {
      await t.close();
    }
  });
});
