/**
 * One-time tokens as an attacker would try them (OWASP Forgot Password Cheat Sheet: single use,
 * short-lived, random, stored hashed): expired, reused, tampered, meant for something else,
 * someone else's, raced twice at once, and what the database holds if it leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb } from '../../../test/helpers/app.js';
import { ManualClock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/index.js';
import { migrate } from '../../platform/db/migrate.js';
import { newId } from '../../platform/ids.js';
import { hashToken, OneTimeTokens } from './one-time-tokens.js';

let db: Db;
let drop: () => Promise<void>;
const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
let tokens: OneTimeTokens;
let alice: string;
let bob: string;

async function user(): Promise<string> {
  const id = newId();
  await db.query(`insert into users (id, email, name, password_hash) values ($1, $2, 'x', 'x')`, [
    id,
    `${id}@example.test`,
  ]);
  return id;
}

beforeAll(async () => {
  ({ db, drop } = await openTestDb());
  await migrate(db);
  tokens = new OneTimeTokens(db, clock);
  alice = await user();
  bob = await user();
});
afterAll(async () => {
  await drop();
});

describe('one-time tokens', () => {
  it('are 256 random bits in base64url and stored only as a SHA-256 hash', async () => {
    const token = await tokens.issue('password_reset', alice, 3600);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    const rows = await db.query<{ token_hash: string }>(`select token_hash from one_time_tokens where user_id = $1`, [
      alice,
    ]);
    expect(rows.map((r) => r.token_hash)).toContain(hashToken(token));
    const dump = JSON.stringify(await db.query(`select * from one_time_tokens`));
    expect(dump).not.toContain(token);
  });

  it('work once for their purpose and their user', async () => {
    const token = await tokens.issue('password_reset', alice, 3600, undefined, { metadata: { ip: '203.0.113.9' } });
    expect(await tokens.peek('password_reset', token)).toMatchObject({ userId: alice });
    const grant = await tokens.consume('password_reset', token);
    expect(grant).toMatchObject({ userId: alice, purpose: 'password_reset', metadata: { ip: '203.0.113.9' } });
    expect(await tokens.consume('password_reset', token)).toBeNull();
    expect(await tokens.peek('password_reset', token)).toBeNull();
  });

  it('refuse a token used for another purpose', async () => {
    const token = await tokens.issue('email_verify', alice, 3600);
    expect(await tokens.consume('password_reset', token)).toBeNull();
    expect(await tokens.consume('unlock', token)).toBeNull();
    // The failed attempts did not burn it for its own purpose.
    expect(await tokens.consume('email_verify', token)).toMatchObject({ userId: alice });
  });

  it('refuse an expired token, to the millisecond', async () => {
    const token = await tokens.issue('password_reset', alice, 60);
    clock.advance(59_999);
    expect(await tokens.peek('password_reset', token)).not.toBeNull();
    clock.advance(1);
    expect(await tokens.consume('password_reset', token)).toBeNull();
  });

  it('refuse tampered, truncated, padded and malformed tokens', async () => {
    const token = await tokens.issue('password_reset', alice, 3600);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const variants: unknown[] = [
      flip(token, 0),
      flip(token, 42),
      token.slice(0, 42),
      `${token}=`,
      `${token}A`,
      token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase(),
      hashToken(token),
      ` ${token}`,
      '',
      null,
      42,
      { token },
      [token],
      "' or '1'='1",
    ];
    for (const v of variants) expect(await tokens.consume('password_reset', v)).toBeNull();
    expect(await tokens.consume('password_reset', token)).toMatchObject({ userId: alice });
  });

  it("give each user only their own grant (bob's token never names alice)", async () => {
    const bobs = await tokens.issue('password_reset', bob, 3600);
    expect(await tokens.consume('password_reset', bobs)).toMatchObject({ userId: bob });
  });

  it('replace: issuing a new link kills the older ones of that purpose only', async () => {
    const first = await tokens.issue('password_reset', alice, 3600);
    const verify = await tokens.issue('email_verify', alice, 3600);
    const second = await tokens.issue('password_reset', alice, 3600, undefined, { replace: true });
    expect(await tokens.consume('password_reset', first)).toBeNull();
    expect(await tokens.consume('password_reset', second)).not.toBeNull();
    expect(await tokens.consume('email_verify', verify)).not.toBeNull();
  });

  it('revoke(user) kills every outstanding token of the user, and nobody else', async () => {
    const reset = await tokens.issue('password_reset', alice, 3600);
    const unlock = await tokens.issue('unlock', alice, 3600);
    const bobs = await tokens.issue('unlock', bob, 3600);
    expect(await tokens.revoke(alice)).toBeGreaterThanOrEqual(2);
    expect(await tokens.consume('password_reset', reset)).toBeNull();
    expect(await tokens.consume('unlock', unlock)).toBeNull();
    expect(await tokens.consume('unlock', bobs)).not.toBeNull();
  });

  it('a token issued in a rolled-back transaction never works', async () => {
    let token = '';
    await expect(
      db.transaction(async (tx) => {
        token = await tokens.issue('password_reset', alice, 3600, tx);
        throw new Error('mail could not be queued');
      }),
    ).rejects.toThrow();
    expect(await tokens.consume('password_reset', token)).toBeNull();
  });

  it('of many concurrent uses of one token, exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const token = await tokens.issue('password_reset', alice, 3600);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => db.transaction((tx) => tokens.consume('password_reset', token, tx))),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    }
  });

  it('deleteStale removes used and expired rows only', async () => {
    const live = await tokens.issue('unlock', bob, 3600);
    clock.advance(10);
    const removed = await tokens.deleteStale(clock.now());
    expect(removed).toBeGreaterThan(0);
    expect(await tokens.peek('unlock', live)).not.toBeNull();
  });

  it('refuse invalid purposes and lifetimes when issuing', async () => {
    await expect(tokens.issue('Reset Password', alice, 60)).rejects.toThrow(/purpose/);
    await expect(tokens.issue('password_reset', alice, 0)).rejects.toThrow(/ttl/);
  });
});
