/**
 * `portfolio-admin invitations create|list|revoke` through the real CLI, and the way the first
 * owner of a fresh install gets in when registration is not open: the operator invites, the
 * printed link (mail goes to the outbox folder only) creates the admin account, which signs in.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDataDir, runCliInProcess } from '../../../test/helpers/cli.js';
import { strongPassword } from '../../../test/helpers/factories.js';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { closePlatform, openPlatform } from '../../platform/bootstrap.js';

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await migratedDataDir('pf-cli-invitations-');
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent', REGISTRATION: 'invite', PUBLIC_URL: 'https://cms.example' };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCliInProcess(args, { env });

interface Listed {
  id: string;
  email: string;
  roles: string[];
  state: string;
  invitedBy: string | null;
}
const list = async () => JSON.parse((await cli(['invitations', 'list', '--json'])).stdout) as Listed[];

/** The app on the CLI's embedded database (the command has finished and closed it, so PGlite is free). */
async function withApp<T>(fn: (app: Awaited<ReturnType<typeof buildApp>>) => Promise<T>): Promise<T> {
  // As in buildTestApp: no shedding or limits on a busy test machine.
  const deps = await openPlatform(
    loadConfig({ ...env, MAIL_POLL_INTERVAL: '0', LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0', RATE_LIMIT_ENABLED: 'false' }),
  );
  const app = await buildApp(deps, { logger: false });
  try {
    await app.ready();
    return await fn(app);
  } finally {
    await app.close();
    await closePlatform(deps);
  }
}

describe('invitations (CLI)', () => {
  it('gets the first owner in: invite, printed link, accepted admin signs in; list and revoke', async () => {
    const created = await cli(['invitations', 'create', '--email', 'owner@example.test', '--role', 'admin']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const link = /https:\/\/cms\.example\/accept-invite\?token=([A-Za-z0-9_-]{43})/.exec(created.stdout);
    expect(link, created.stdout).not.toBeNull();
    const token = link?.[1] ?? '';

    const [pending] = await list();
    expect(pending).toMatchObject({ email: 'owner@example.test', roles: ['admin'], state: 'pending', invitedBy: null });

    const password = strongPassword();
    await withApp(async (app) => {
      const register = await app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email: 'someone@example.test', password, name: 'S' },
      });
      expect(register.statusCode).toBe(403);
      expect(register.json().code).toBe('REGISTRATION_CLOSED');
      const accepted = await app.inject({
        method: 'POST',
        url: '/api/auth/invitations/accept',
        payload: { token, password, name: 'Owner' },
      });
      expect(accepted.statusCode).toBe(201);
      expect(accepted.json().user).toMatchObject({ email: 'owner@example.test', role: 'admin', emailVerified: true });
      const login = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: 'owner@example.test', password },
      });
      expect(login.statusCode, login.body).toBe(200);
      const created = await app.deps.db.query<{ actor: string }>(
        `select actor from audit_inbox where action = 'invitation.created'
         union all select actor from audit_events where action = 'invitation.created'`,
      );
      expect(created).toEqual([{ actor: 'system' }]);
    });

    expect((await list())[0]?.state).toBe('accepted');
    const late = await cli(['invitations', 'revoke', pending?.id ?? '']);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/already accepted/);

    const second = await cli(['invitations', 'create', '--email', 'editor@example.test', '--role', 'editor']);
    expect(second.code).toBe(0);
    const id = (await list()).find((i) => i.email === 'editor@example.test')?.id ?? '';
    const revoked = await cli(['invitations', 'revoke', id]);
    expect(revoked.code).toBe(0);
    expect((await list()).find((i) => i.id === id)?.state).toBe('revoked');
  }, 300_000);

  it('refuses unknown roles, bad emails, bad ids and an email that has an account', async () => {
    const role = await cli(['invitations', 'create', '--email', 'x@example.test', '--role', 'root']);
    expect(role.code).toBe(1);
    expect(role.stderr).toMatch(/Unknown role "root"/);
    const email = await cli(['invitations', 'create', '--email', 'not-an-email']);
    expect(email.code).toBe(1);
    expect(email.stderr).toMatch(/not an email address/);
    const id = await cli(['invitations', 'revoke', 'abc']);
    expect(id.code).toBe(1);
    expect(id.stderr).toMatch(/not an invitation id/);
    const taken = await cli(['invitations', 'create', '--email', 'OWNER@example.test']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/already exists/);
  }, 120_000);
});
