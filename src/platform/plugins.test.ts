/**
 * The plugin graph decides the order, not a list in app.ts: shuffling the feature plugins cannot
 * change which login gates run, nor in which order, nor what a sign-in answers. Before, the gates
 * ran in plugin-registration order and a dependency looked up at run time ("is it registered
 * yet?") silently switched a check off when its plugin came later.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { afterEach, describe, expect, it } from 'vitest';
import { FEATURE_PLUGINS } from '../app.js';
import { LoginGates, type LoginGateName } from '../auth/gates.js';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createUser } from '../../test/helpers/factories.js';
import { claimsOf, client, enrollTotp, login, oathCode, verify } from '../../test/support/mfa/helpers.js';
import { describeGraph, orderByDependencies, pluginMeta } from './plugins.js';

/** A seeded shuffle (mulberry32), so a failing order can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const PLATFORM = ['deps', 'problem', 'control-character-guard', 'client-ip', 'http-cache', 'openapi'];
const noop = (name: string, dependencies: string[] = []) => fp(async () => undefined, { name, dependencies });

describe('orderByDependencies', () => {
  it('puts every plugin after what it declares, whatever order it is given', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const ordered = orderByDependencies(shuffled(FEATURE_PLUGINS, seed), PLATFORM);
      const seen = new Set(PLATFORM);
      for (const plugin of ordered) {
        const { name, dependencies } = pluginMeta(plugin);
        for (const dependency of dependencies) expect(seen.has(dependency), `${name} after ${dependency}`).toBe(true);
        seen.add(name);
      }
      expect(ordered).toHaveLength(FEATURE_PLUGINS.length);
    }
  });

  it('refuses a cycle, a missing dependency, an unnamed plugin and a name listed twice', () => {
    expect(() => orderByDependencies([noop('a', ['b']), noop('b', ['a'])], [])).toThrow(/cycle: a -> b -> a/);
    expect(() => orderByDependencies([noop('a', ['mail'])], [])).toThrow(/"a" needs "mail"/);
    expect(() => orderByDependencies([async () => undefined], [])).toThrow(/needs a name/);
    expect(() => orderByDependencies([noop('a'), noop('a')], [])).toThrow(/listed twice/);
  });

  it('declares every dependency that a feature uses: each is registered by the time it is named', () => {
    // The declared graph, one line per plugin (the shape the docs show).
    const graph = describeGraph(orderByDependencies(FEATURE_PLUGINS, PLATFORM));
    expect(graph).toMatch(/^users -> deps$/m);
    expect(graph).toMatch(/^mail -> deps, audit$/m);
    expect(graph).toMatch(/^shield -> .*tokens/m);
    expect(graph).toMatch(/^authenticate -> .*shield/m);
    expect(graph).toMatch(/^mfa -> .*accounts/m);
  });
});

/** Which plugin decorates the app with what. */
const DECORATED_BY: Record<string, string> = {
  users: 'users',
  audit: 'audit',
  mail: 'mail',
  tokens: 'tokens',
  shield: 'shield',
  metrics: 'shield',
  authenticate: 'authenticate',
  requireRecentAuth: 'authenticate',
  setAuthCookies: 'authenticate',
  assertCsrf: 'authenticate',
  auth: 'auth',
  accounts: 'accounts',
  mfa: 'mfa',
  passkeys: 'mfa',
  content: 'content',
  contentSchedule: 'content-schedule',
  contentPreview: 'content-preview',
  uploads: 'uploads',
  languages: 'languages',
  siteTexts: 'site-texts',
  categories: 'categories',
  invitations: 'invitations',
  settings: 'settings',
  privacyExport: 'privacy-export',
  privacyNotice: 'privacy-notice',
  privacyErasure: 'privacy-erasure',
  privacyRetention: 'privacy-retention',
  alerts: 'alerts',
  detection: 'alerts',
  siemShipper: 'monitoring',
};

const folder = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f));

/** Where each feature plugin's code lives: the plugin, its services and the routes it registers. */
const SOURCES: Record<string, string[]> = {
  users: ['src/users/plugin.ts', 'src/users/service.ts'],
  audit: ['src/security/audit/plugin.ts', 'src/security/audit/hook.ts', 'src/security/audit/service.ts'],
  mail: ['src/platform/mail/plugin.ts'],
  tokens: ['src/security/tokens/plugin.ts'],
  shield: folder('src/security/shield').filter((f) => !f.endsWith('routes.ts')),
  health: ['src/http/health.ts'],
  monitoring: folder('src/security/monitoring'),
  tracing: folder('src/security/monitoring/tracing'),
  'security-txt': ['src/http/security-txt.ts'],
  authenticate: [
    'src/security/tokens/authenticate.ts',
    'src/security/tokens/cookies.ts',
    'src/security/tokens/events.ts',
  ],
  auth: ['src/auth/plugin.ts', 'src/auth/service.ts', 'src/auth/gates.ts'],
  'audit-routes': ['src/security/audit/routes.ts', 'src/security/audit/account-events.ts'],
  accounts: folder('src/security/accounts'),
  mfa: folder('src/security/mfa'),
  'auth-routes': ['src/auth/routes.ts', 'src/auth/login.ts', 'src/auth/events.ts'],
  'token-routes': ['src/security/tokens/routes.ts', 'src/security/tokens/events.ts'],
  'user-admin-routes': ['src/users/routes.ts', 'src/users/roles-routes.ts'],
  'shield-routes': ['src/security/shield/routes.ts'],
  'backup-routes': ['src/backup/routes.ts'],
  alerts: [...folder('src/security/monitoring/alerts'), ...folder('src/security/monitoring/detection')],
  content: folder('src/content'),
  'content-schedule': folder('src/content/schedule'),
  'content-preview': folder('src/content/preview'),
  uploads: folder('src/security/uploads'),
  languages: folder('src/content/languages'),
  'site-texts': [...folder('src/content/texts'), 'src/content/languages/site-admin.ts'],
  categories: folder('src/content/categories'),
  invitations: folder('src/security/invitations'),
  settings: folder('src/settings'),
  console: folder('src/console'),
  'privacy-export': folder('src/security/privacy/export'),
  'privacy-notice': folder('src/security/privacy/notice'),
  'privacy-erasure': folder('src/security/privacy/erasure'),
  'privacy-retention': folder('src/security/privacy/retention'),
};

describe('declared dependencies', () => {
  it('every decoration that the code of a plugin uses belongs to a plugin it declares', () => {
    const missing: string[] = [];
    for (const plugin of FEATURE_PLUGINS) {
      const { name, dependencies } = pluginMeta(plugin);
      const files = SOURCES[name];
      expect(files, `SOURCES lists the files of "${name}"`).toBeDefined();
      for (const file of files ?? []) {
        // Code only: comments may name what other modules do.
        const text = readFileSync(file, 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/(^|\s)\/\/[^\n]*/g, '$1');
        for (const m of text.matchAll(/\bapp\.(\w+)/g)) {
          const owner = DECORATED_BY[m[1] as string];
          if (owner && owner !== name && !dependencies.includes(owner))
            missing.push(`${name} uses app.${m[1]} (${file})`);
        }
      }
    }
    expect([...new Set(missing)]).toEqual([]);
  });

  it('every plugin that registers routes comes after the shield (its body-keyed limits attach to routes registered after it)', () => {
    const byName = new Map(FEATURE_PLUGINS.map((p) => [pluginMeta(p).name, pluginMeta(p).dependencies]));
    const reaches = (name: string, target: string, seen = new Set<string>()): boolean => {
      if (name === target) return true;
      if (seen.has(name)) return false;
      seen.add(name);
      return (byName.get(name) ?? []).some((d) => reaches(d, target, seen));
    };
    const withoutRoutes = new Set(['tracing', 'users', 'audit', 'mail', 'tokens', 'shield', 'privacy-retention']);
    const notAfterShield = [...byName.keys()].filter((n) => !withoutRoutes.has(n) && !reaches(n, 'shield'));
    expect(notAfterShield).toEqual([]);
  });
});

describe('login gates', () => {
  it('run in their declared order, whatever order they were added in', async () => {
    const names: LoginGateName[] = ['suspicious-login', 'mfa'];
    for (const order of [names, [...names].reverse()]) {
      const ran: string[] = [];
      const gates = new LoginGates();
      for (const name of order) {
        gates.add(name, async () => {
          ran.push(name);
          return { kind: 'continue' };
        });
      }
      await gates.run({ id: 'u', email: 'e', roles: [] }, {} as never);
      expect(ran).toEqual(['mfa', 'suspicious-login']);
      expect(gates.names()).toEqual(['mfa', 'suspicious-login']);
    }
  });

  it('a gate name can be taken once: a second registration cannot slip in ahead or replace it', () => {
    const gates = new LoginGates();
    gates.add('mfa', async () => ({ kind: 'continue' }));
    expect(() => gates.add('mfa', async () => ({ kind: 'continue' }))).toThrow(/already registered/);
  });
});

describe('a shuffled app', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** MFA first (it answers mfaRequired), then the forced password change on the token it issues. */
  async function signInAnswers(app: FastifyInstance, clock: TestApp['clock']) {
    const user = await createUser(app);
    const { secret } = await enrollTotp(app, clock, user);
    await app.users.repo.update(user.id, { mustChangePassword: true });
    const first = await login(app, user);
    const second = await verify(
      app,
      {
        mfaToken: first.body.mfaToken,
        code: oathCode(secret, clock.now().getTime()),
      },
      client(),
    );
    return {
      first: { status: first.status, mfaRequired: first.body.mfaRequired },
      second: {
        status: second.status,
        passwordChangeRequired: second.body.passwordChangeRequired,
        scope: claimsOf(String(second.body.accessToken)).scp,
      },
    };
  }

  it('runs the same gates in the same order and answers a sign-in the same, for three shuffles', async () => {
    const answers: unknown[] = [];
    for (const seed of [7, 1234, 99_001]) {
      t = await buildTestApp({}, { features: shuffled(FEATURE_PLUGINS, seed) });
      expect(t.app.auth.gates.names()).toEqual(['mfa', 'suspicious-login']);
      answers.push(await signInAnswers(t.app, t.clock));
      await t.close();
      t = undefined;
    }
    expect(answers[0]).toEqual({
      first: { status: 200, mfaRequired: true },
      second: { status: 200, passwordChangeRequired: true, scope: 'password_change' },
    });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  }, 240_000);
});
