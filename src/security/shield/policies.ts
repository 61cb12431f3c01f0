/**
 * Policies: which requests share which buckets. Built-in policies come from the
 * RATE_LIMIT_* variables; RATE_LIMIT_POLICY_FILE and RATE_LIMIT_POLICIES change them or add
 * more. Every policy that matches a request is enforced, in one decision.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../../config/index.js';
import { canonicalEmail } from '../../users/email.js';
import { intervalFor, keys, type BucketGroup } from './gcra.js';
import type { PolicyKey, PolicySpec } from './policy-spec.js';

export interface CompiledLimit {
  limit: number;
  /** Seconds. */
  window: number;
  interval: number;
  /** Name in headers and keys: "<policy>-minute", "<policy>-hour", "<policy>-<n>s". */
  label: string;
}

export interface Policy {
  name: string;
  methods: ReadonlySet<string> | null;
  /** "*" (every request), an exact route pattern, or a prefix when `prefix` is set. */
  path: string;
  prefix: boolean;
  key: PolicyKey;
  limits: CompiledLimit[];
  /** The windows in storage keys ("60,3600"): a policy whose windows change starts afresh. */
  windowsTag: string;
  cost: number;
  failClosed: boolean;
  /** GET/HEAD route patterns (as the router matched them) this policy does not count. */
  exceptRoutes: ReadonlySet<string>;
}

/**
 * The console's fingerprinted files (src/console/plugin.ts): one first page load fetches about
 * nine of them, so counted by `global` a user clicking around ran into 429 on JS and CSS. They
 * are cached immutable and served from memory, so they leave the per-client budget. Matched on
 * the route pattern the router chose, never the raw URL: `/assets/../api/...`, `/assets%2f..`
 * or a query cannot reach another route through the exemption (the `:file` parameter is one
 * segment; anything else is another route, or none, and counted).
 */
export const UNMETERED_ASSET_ROUTES: readonly string[] = ['/assets/:file'];

function windowLabel(window: number): string {
  if (window === 60) return 'minute';
  if (window === 3600) return 'hour';
  if (window === 86400) return 'day';
  return `${window}s`;
}

/** The built-in policies, before overrides, from the configuration. */
export function builtinPolicySpecs(config: Config): PolicySpec[] {
  const perMinuteHour = (minute: number, hour: number) => [
    { limit: minute, window: 60 },
    { limit: hour, window: 3600 },
  ];
  return [
    {
      name: 'global',
      path: '*',
      key: 'ip',
      limits: perMinuteHour(config.RATE_LIMIT_PER_MINUTE, config.RATE_LIMIT_PER_HOUR),
      exceptRoutes: UNMETERED_ASSET_ROUTES,
    },
    {
      name: 'login',
      methods: ['POST'],
      path: '/api/auth/login',
      key: 'ip',
      limits: perMinuteHour(config.RATE_LIMIT_LOGIN_PER_MINUTE, config.RATE_LIMIT_LOGIN_PER_HOUR),
    },
    {
      // Keyed by the submitted email: spreading guesses for one account over many addresses
      // (a botnet) does not buy more guesses.
      name: 'login-account',
      methods: ['POST'],
      path: '/api/auth/login',
      key: 'body:email',
      limits: [{ limit: config.RATE_LIMIT_LOGIN_ACCOUNT_PER_HOUR, window: 3600 }],
    },
    {
      name: 'register',
      methods: ['POST'],
      path: '/api/auth/register',
      key: 'ip',
      limits: perMinuteHour(config.RATE_LIMIT_REGISTER_PER_MINUTE, config.RATE_LIMIT_REGISTER_PER_HOUR),
    },
    {
      // Accepting an invitation creates an account (an argon2 hash per try): the registration
      // limits, in a bucket of its own so a closed register route cannot spend it.
      name: 'invitation-accept',
      methods: ['POST'],
      path: '/api/auth/invitations/accept',
      key: 'ip',
      limits: perMinuteHour(config.RATE_LIMIT_REGISTER_PER_MINUTE, config.RATE_LIMIT_REGISTER_PER_HOUR),
    },
    {
      // The contact form mails a person: few messages per client (plus a per-portfolio daily
      // cap in src/security/accounts/contact.ts).
      name: 'contact',
      methods: ['POST'],
      path: '/api/public/portfolios/:slug/contact',
      key: 'ip',
      limits: perMinuteHour(config.RATE_LIMIT_CONTACT_PER_MINUTE, config.RATE_LIMIT_CONTACT_PER_HOUR),
    },
    {
      // Both mail a person (a reset link, a verification link): few requests per client, plus
      // at most one mail a minute per account in src/security/accounts/flows.ts.
      name: 'password-forgot',
      methods: ['POST'],
      path: '/api/auth/password/forgot',
      key: 'ip',
      limits: perMinuteHour(config.RATE_LIMIT_ACCOUNT_MAIL_PER_MINUTE, config.RATE_LIMIT_ACCOUNT_MAIL_PER_HOUR),
    },
    {
      name: 'email-resend',
      methods: ['POST'],
      path: '/api/auth/email/resend',
      key: 'ip',
      limits: perMinuteHour(config.RATE_LIMIT_ACCOUNT_MAIL_PER_MINUTE, config.RATE_LIMIT_ACCOUNT_MAIL_PER_HOUR),
    },
    {
      name: 'portfolios',
      path: '/api/portfolios*',
      key: 'user',
      limits: perMinuteHour(config.RATE_LIMIT_PORTFOLIOS_PER_MINUTE, config.RATE_LIMIT_PORTFOLIOS_PER_HOUR),
    },
  ];
}

/** Fail-closed policy names: RATE_LIMIT_FAIL_CLOSED, or login in production. */
export function failClosedNames(config: Config): Set<string> {
  if (config.RATE_LIMIT_FAIL_CLOSED) return new Set(config.RATE_LIMIT_FAIL_CLOSED);
  return new Set(config.NODE_ENV === 'production' ? ['login', 'login-account'] : []);
}

/**
 * Built-ins, then the policy file, then RATE_LIMIT_POLICIES: a later entry with a known name
 * changes only the fields it gives. Throws (at boot) on an incomplete new policy.
 */
export function compilePolicies(config: Config): Policy[] {
  const merged = new Map<string, PolicySpec>();
  for (const spec of builtinPolicySpecs(config)) merged.set(spec.name, spec);
  for (const spec of [...(config.RATE_LIMIT_POLICY_FILE ?? []), ...(config.RATE_LIMIT_POLICIES ?? [])]) {
    const base = merged.get(spec.name);
    merged.set(spec.name, { ...base, ...spec });
  }
  const failClosed = failClosedNames(config);
  const policies: Policy[] = [];
  for (const spec of merged.values()) {
    if (spec.enabled === false) continue;
    if (!spec.path || !spec.limits) throw new Error(`rate-limit policy "${spec.name}" needs a path and limits`);
    const cost = spec.cost ?? 1;
    const limits = spec.limits.map((l) => {
      if (cost > l.limit)
        throw new Error(`rate-limit policy "${spec.name}": cost ${cost} exceeds its limit ${l.limit}`);
      return {
        limit: l.limit,
        window: l.window,
        interval: intervalFor(l.limit, l.window),
        label: `${spec.name}-${windowLabel(l.window)}`,
      };
    });
    const labels = new Set(limits.map((l) => l.label));
    if (labels.size !== limits.length) throw new Error(`rate-limit policy "${spec.name}" lists one window twice`);
    const prefix = spec.path !== '*' && spec.path.endsWith('*');
    policies.push({
      name: spec.name,
      methods: spec.methods ? new Set(spec.methods.map((m) => (m === 'HEAD' ? 'GET' : m))) : null,
      path: prefix ? spec.path.slice(0, -1) : spec.path,
      prefix,
      key: spec.key ?? 'ip',
      limits,
      windowsTag: limits.map((l) => l.window).join(','),
      cost,
      failClosed: spec.failClosed ?? failClosed.has(spec.name),
      exceptRoutes: new Set(spec.exceptRoutes ?? []),
    });
  }
  return policies;
}

/**
 * Policies matching a route. `routeUrl` is the pattern the router matched
 * ("/api/portfolios/:id"), so encodings, trailing slashes and case tricks in the raw URL
 * cannot dodge a policy; null for a request no route matched (only "*" policies apply).
 */
export function matchPolicies(policies: readonly Policy[], method: string, routeUrl: string | null): Policy[] {
  const m = method === 'HEAD' ? 'GET' : method;
  return policies.filter((p) => {
    if (p.methods && !p.methods.has(m)) return false;
    // The one exemption: only a request the router matched to an excepted pattern, and only reads.
    if (routeUrl !== null && m === 'GET' && p.exceptRoutes.has(routeUrl)) return false;
    if (p.path === '*') return true;
    if (routeUrl === null) return false;
    return p.prefix ? routeUrl.startsWith(p.path) : routeUrl === p.path;
  });
}

/** What a request offers to key buckets by. */
export interface RequestIdentity {
  clientKey: string;
  /** The authenticated user id, if the request carries a valid access token. */
  userId: string | null;
  /** The parsed body, for body:<field> keys. */
  body: unknown;
  /** A scope for the buckets of one body field (the shield's `scopeBodyKey`). */
  bodyScope?: { field: string; scope: string } | null | undefined;
}

/**
 * A body value as a bucket id, hashed so no email address is ever stored as a key. An `email`
 * field names an account: it is keyed by the account's canonical identifier
 * (src/users/email.ts, the function the database lookup and the lockout use), so every
 * spelling that reaches one account shares its bucket; a value registration would refuse names
 * no account and gets no bucket (the route answers 400 without doing any work). Other fields
 * are trimmed, NFKC-normalised and lower-cased. Null: no bucket.
 */
export function bodyKeyId(field: string, value: string, scope?: string): string | null {
  const normalised = field === 'email' ? canonicalEmail(value) : value.normalize('NFKC').trim().toLowerCase();
  if (normalised === null || normalised === '') return null;
  const base = scope === undefined ? normalised : `${normalised}\u0000${scope}`;
  return `h:${createHash('sha256').update(base).digest('base64url').slice(0, 32)}`;
}

/** The bucket id for a policy, or null when the request does not have what it keys by. */
export function bucketId(policy: Policy, who: RequestIdentity): string | null {
  if (policy.key === 'ip') return `c:${who.clientKey}`;
  if (policy.key === 'user') return who.userId ? `u:${who.userId}` : `c:${who.clientKey}`;
  const field = policy.key.slice('body:'.length);
  const body = who.body;
  if (typeof body !== 'object' || body === null) return null;
  const value = (body as Record<string, unknown>)[field];
  if (typeof value !== 'string') return null;
  return bodyKeyId(field, value, who.bodyScope?.field === field ? who.bodyScope.scope : undefined);
}

/** A policy's bucket group for one request, with the policy for headers and metrics. */
export interface PlannedGroup extends BucketGroup {
  policy: Policy;
}

/** The bucket groups a request must fit into: one per matching policy, in policy order. */
export function planBuckets(policies: readonly Policy[], who: RequestIdentity): PlannedGroup[] {
  const out: PlannedGroup[] = [];
  for (const policy of policies) {
    const id = bucketId(policy, who);
    if (id === null) continue;
    out.push({
      key: keys.bucket(policy.name, policy.windowsTag, id),
      cost: policy.cost,
      windows: policy.limits,
      policy,
    });
  }
  return out;
}

/** True when a policy needs the parsed body (its decision waits for preValidation). */
export function needsBody(policies: readonly Policy[]): boolean {
  return policies.some((p) => p.key.startsWith('body:'));
}
