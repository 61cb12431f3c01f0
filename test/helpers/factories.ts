import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Role } from '../../src/users/policy.js';

/** A password that passes the policy, different every call. */
export function strongPassword(): string {
  return `Violet-${randomBytes(6).toString('hex')}-Harbor-Lantern`;
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.test`;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  name: string;
  role: Role;
  accessToken: string;
  refreshToken: string;
  /** Authorization header for app.inject. */
  auth: { authorization: string };
}

/** Creates a user directly through the service (any role), then logs in through the API. */
export async function createUser(
  app: FastifyInstance,
  options: { role?: Role; email?: string; name?: string } = {},
): Promise<TestUser> {
  const email = options.email ?? uniqueEmail(options.role ?? 'user');
  const password = strongPassword();
  const name = options.name ?? 'Test User';
  const user = await app.users.create({ email, password, name, role: options.role ?? 'user' });
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login failed in factory: ${res.statusCode} ${res.body}`);
  const tokens = res.json<{ accessToken: string; refreshToken: string }>();
  return {
    id: user.id,
    email,
    password,
    name,
    role: options.role ?? 'user',
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    auth: { authorization: `Bearer ${tokens.accessToken}` },
  };
}

export interface PortfolioInput {
  title?: string;
  slug?: string;
  summary?: string;
  visibility?: 'private' | 'public';
  published?: boolean;
  defaultLanguage?: string;
  isDefault?: boolean;
  translations?: Record<string, Record<string, string>>;
}

/** Creates a portfolio through the API as the given user and returns its JSON. */
export async function createPortfolio(
  app: FastifyInstance,
  owner: TestUser,
  input: PortfolioInput = {},
): Promise<{ id: string; slug: string } & Record<string, unknown>> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/portfolios',
    headers: owner.auth,
    payload: { title: 'My work', slug: `p-${randomBytes(5).toString('hex')}`, ...input },
  });
  if (res.statusCode !== 201) throw new Error(`portfolio create failed in factory: ${res.statusCode} ${res.body}`);
  return res.json();
}
