/**
 * Helpers for the account-security tests: what the outbox holds for an address, the token of a
 * mailed link, a login from a given client. Not imported by the app.
 */
import type { FastifyInstance } from 'fastify';

export interface QueuedMail {
  template: string;
  to: string;
  subject: string;
  text: string;
  status: string;
}

/** Mails queued for `address` (oldest first), optionally of one template. */
export async function mailsTo(app: FastifyInstance, address: string, template?: string): Promise<QueuedMail[]> {
  await app.accounts.background.flush();
  const rows = await app.deps.db.query<QueuedMail>(
    `select template, to_address as "to", subject, text_body as text, status from mail_outbox
     where lower(to_address) = lower($1) and ($2::text is null or template = $2) order by created_at, id`,
    [address, template ?? null],
  );
  return rows;
}

/** The one-time token in the link of a mail. */
export function tokenIn(mail: QueuedMail | undefined): string {
  const m = /[?&]token=([A-Za-z0-9_-]{43})/.exec(mail?.text ?? '');
  if (!m?.[1]) throw new Error(`no token link in mail: ${mail?.template ?? 'none'}`);
  return m[1];
}

export interface Client {
  ip?: string;
  ua?: string;
  headers?: Record<string, string>;
}

/** POST /api/auth/login from a client (its address and user agent). */
export async function loginAs(app: FastifyInstance, email: string, password: string, client: Client = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    remoteAddress: client.ip ?? '127.0.0.1',
    headers: {
      'user-agent': client.ua ?? 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      ...client.headers,
    },
    payload: { email, password },
  });
  return res;
}

export const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/**
 * Times `a` and `b` alternately (`rounds` each, after a warm-up), so drift and background noise
 * hit both alike. Returns the medians in ms.
 */
export async function compareTimings(
  rounds: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  between: () => Promise<unknown> = async () => undefined,
): Promise<{ a: number; b: number; ratio: number }> {
  const ta: number[] = [];
  const tb: number[] = [];
  await a();
  await b();
  await between();
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ([a, ta, b, tb] as const) : ([b, tb, a, ta] as const);
    for (const [fn, out] of [
      [order[0], order[1]],
      [order[2], order[3]],
    ] as const) {
      const start = process.hrtime.bigint();
      await fn();
      out.push(Number(process.hrtime.bigint() - start) / 1e6);
      await between();
    }
  }
  const ma = median(ta);
  const mb = median(tb);
  return { a: ma, b: mb, ratio: Math.max(ma, mb) / Math.max(Math.min(ma, mb), 1e-6) };
}
