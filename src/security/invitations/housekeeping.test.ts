/**
 * Invitation housekeeping: accepted, revoked and expired invitations are kept
 * INVITATION_RETENTION_MS (30 days) after they ended, listed and with replays told apart (410),
 * then deleted; a pending invitation is never deleted, however old it is, while it can be used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { strongPassword, uniqueEmail } from '../../../test/helpers/factories.js';
import { INVITATION_RETENTION_MS } from './service.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ MAIL_POLL_INTERVAL: '0', INVITATION_TTL: String(7 * 86_400) });
});
afterAll(async () => {
  await t?.close();
});

const DAY = 86_400_000;
const make = async () => t.app.invitations.create({ email: uniqueEmail('hk'), roles: ['user'] }, 'operator');
const acceptWith = (token: string) =>
  t.app.inject({
    method: 'POST',
    url: '/api/auth/invitations/accept',
    payload: { token, password: strongPassword(), name: 'Invited' },
  });
const ids = async () =>
  (await t.deps.db.query<{ id: string }>(`select id from invitations order by id`)).map((r) => r.id);

describe('invitation housekeeping', () => {
  it('deletes invitations ended more than 30 days ago (accepted, revoked, expired), keeps newer and pending ones', async () => {
    expect(INVITATION_RETENTION_MS).toBe(30 * DAY);
    const accepted = await make();
    expect((await acceptWith(accepted.token)).statusCode).toBe(201);
    const revoked = await make();
    await t.app.invitations.revoke(revoked.invitation.id, 'operator');
    const expiring = await make(); // expires unused at +7 days

    t.clock.advance(30 * DAY + 60_000);
    // Within the grace they are still there: a replay is still told apart (410, audited).
    const replay = await acceptWith(accepted.token);
    const withdrawn = await acceptWith(revoked.token);
    expect([replay.statusCode, withdrawn.statusCode]).toEqual([410, 410]);
    const recent = await make();
    expect((await acceptWith(recent.token)).statusCode).toBe(201);
    const pending = await make(); // expires at +37 days

    expect(await t.app.invitations.deleteStale()).toBe(2);
    expect(await ids()).toEqual([expiring.invitation.id, recent.invitation.id, pending.invitation.id].sort());
    // Past the grace the row is gone: the old link is an unknown token, nothing more.
    const gone = await acceptWith(accepted.token);
    expect([gone.statusCode, gone.json().code]).toEqual([400, 'INVITATION_INVALID']);
    // The pending one still works after housekeeping ran.
    expect(await t.app.invitations.deleteStale()).toBe(0);

    // 30 days after the unused one expired (+7 d) it goes; the pending one has just expired: kept.
    t.clock.advance(7 * DAY);
    expect(await t.app.invitations.deleteStale()).toBe(1);
    expect(await ids()).toEqual([recent.invitation.id, pending.invitation.id].sort());
    t.clock.advance(30 * DAY);
    expect(await t.app.invitations.deleteStale()).toBe(2);
    expect(await ids()).toEqual([]);
  });

  it('never deletes a usable invitation, even one created long ago with the longest TTL', async () => {
    const { invitation, token } = await make();
    t.clock.advance(7 * DAY - 60_000);
    expect(await t.app.invitations.deleteStale()).toBe(0);
    expect(await ids()).toContain(invitation.id);
    expect((await acceptWith(token)).statusCode).toBe(201);
  });
});
