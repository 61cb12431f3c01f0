import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../../audit/actions.js';
import { DetectionEngine, networkOf, type EngineEvent, type Signal } from './engine.js';
import { parseRuleSpecs } from './rule-spec.js';
import { BUILT_IN_RULES, resolveRules } from './rules.js';

const T0 = Date.parse('2026-06-01T12:00:00Z');
let seq = 0;

function ev(partial: Partial<EngineEvent> & { action: string }, atS = 0): EngineEvent {
  seq++;
  return {
    seq,
    time: new Date(T0 + atS * 1000).toISOString(),
    actor: 'anonymous',
    outcome: 'failure',
    ip: '198.51.100.7',
    targetType: null,
    targetId: null,
    metadata: {},
    ...partial,
  };
}

const failOn = (account: string | null, ip: string, atS = 0) =>
  ev({ action: AUDIT_ACTIONS.loginFailed, ip, targetType: account ? 'user' : null, targetId: account }, atS);

const accounts = (n: number) => Array.from({ length: n }, () => randomUUID());

/** Feeds the events to an engine of the built-in rules; the names of the rules that raised. */
function run(events: EngineEvent[]): Signal[] {
  const engine = new DetectionEngine(resolveRules());
  return events.flatMap((e) => engine.observe(e));
}

const fired = (signals: Signal[], rule: string) => signals.filter((s) => s.rule.name === rule);

interface Case {
  rule: string;
  /** Reaches the threshold. */
  trigger: () => EngineEvent[];
  /** The same attack one short of it (or the harmless twin). */
  below: () => EngineEvent[];
}

const admin = randomUUID();
const user = randomUUID();

const CASES: Case[] = [
  {
    rule: 'credential-stuffing-client',
    trigger: () => accounts(10).map((a, i) => failOn(a, '198.51.100.7', i)),
    below: () => accounts(9).map((a, i) => failOn(a, '198.51.100.7', i)),
  },
  {
    rule: 'credential-stuffing-network',
    // 20 accounts from 20 addresses of one /24: no single client reaches its own threshold.
    trigger: () => accounts(20).map((a, i) => failOn(a, `203.0.113.${i + 1}`, i)),
    below: () => accounts(19).map((a, i) => failOn(a, `203.0.113.${i + 1}`, i)),
  },
  {
    rule: 'password-spraying',
    // 50 accounts, one attempt each, from 25 networks.
    trigger: () => accounts(50).map((a, i) => failOn(a, `10.${i % 25}.0.1`, i * 10)),
    // 49 accounts once each, and 20 more hammered 4 times each (brute force, not spraying: they do not count).
    below: () => {
      const hammered = accounts(20);
      return [
        ...[0, 1, 2, 3].flatMap((round) => hammered.map((a, i) => failOn(a, `10.${i % 25}.0.1`, round * 60 + i))),
        ...accounts(49).map((a, i) => failOn(a, `10.${i % 25}.0.1`, 300 + i)),
      ];
    },
  },
  {
    rule: 'account-many-clients',
    trigger: () => Array.from({ length: 10 }, (_, i) => failOn(user, `192.0.${i}.9`, i)),
    below: () => Array.from({ length: 9 }, (_, i) => failOn(user, `192.0.${i}.9`, i)),
  },
  {
    rule: 'success-after-failures',
    trigger: () => [
      ...Array.from({ length: 5 }, (_, i) => failOn(user, '198.51.100.7', i)),
      ev(
        { action: AUDIT_ACTIONS.loginSucceeded, outcome: 'success', actor: user, targetType: 'user', targetId: user },
        10,
      ),
    ],
    below: () => [
      ...Array.from({ length: 4 }, (_, i) => failOn(user, '198.51.100.7', i)),
      ev(
        { action: AUDIT_ACTIONS.loginSucceeded, outcome: 'success', actor: user, targetType: 'user', targetId: user },
        10,
      ),
    ],
  },
  {
    rule: 'refresh-token-reuse',
    trigger: () => [ev({ action: AUDIT_ACTIONS.refreshReused, actor: user })],
    below: () => [ev({ action: AUDIT_ACTIONS.refresh, actor: user, outcome: 'failure' })],
  },
  {
    rule: 'token-binding-mismatch',
    trigger: () =>
      Array.from({ length: 5 }, (_, i) => ev({ action: AUDIT_ACTIONS.tokenBindingMismatch, actor: user }, i)),
    below: () =>
      Array.from({ length: 4 }, (_, i) => ev({ action: AUDIT_ACTIONS.tokenBindingMismatch, actor: user }, i)),
  },
  {
    rule: 'mfa-removed',
    trigger: () => [
      ev({ action: AUDIT_ACTIONS.mfaReset, actor: admin, outcome: 'success', targetType: 'user', targetId: user }),
    ],
    below: () => [ev({ action: AUDIT_ACTIONS.mfaTotpEnrolled, actor: user, outcome: 'success' })],
  },
  {
    rule: 'privileged-role-granted',
    trigger: () => [
      ev({
        action: AUDIT_ACTIONS.roleUpdated,
        actor: admin,
        outcome: 'success',
        targetType: 'role',
        targetId: 'support',
        metadata: {
          before: { permissions: ['content:read_any'] },
          after: { permissions: ['content:read_any', 'security:manage'] },
        },
      }),
    ],
    // Already had it: renaming languages on a privileged role grants nothing new.
    below: () => [
      ev({
        action: AUDIT_ACTIONS.roleUpdated,
        actor: admin,
        outcome: 'success',
        targetType: 'role',
        targetId: 'support',
        metadata: { before: { permissions: ['user:manage'] }, after: { permissions: ['user:manage'] } },
      }),
      ev({
        action: AUDIT_ACTIONS.roleCreated,
        actor: admin,
        outcome: 'success',
        targetType: 'role',
        targetId: 'writer',
        metadata: { permissions: ['content:write_own'] },
      }),
    ],
  },
  {
    // An account given a role that holds it (the admin users API records the roles' permissions).
    rule: 'privileged-role-granted',
    trigger: () => [
      ev({
        action: AUDIT_ACTIONS.userAccessChanged,
        actor: admin,
        outcome: 'success',
        targetType: 'user',
        targetId: user,
        metadata: {
          rolesBefore: ['editor'],
          rolesAfter: ['editor', 'security-officer'],
          before: { permissions: ['content:read_any'] },
          after: { permissions: ['content:read_any', 'security:manage'] },
        },
      }),
    ],
    // Roles changed, no privileged permission gained (an admin disabled, or given a content role).
    below: () => [
      ev({
        action: AUDIT_ACTIONS.userAccessChanged,
        actor: admin,
        outcome: 'success',
        targetType: 'user',
        targetId: user,
        metadata: {
          rolesBefore: ['admin'],
          rolesAfter: ['admin', 'editor'],
          before: { permissions: ['security:manage', 'user:manage'] },
          after: { permissions: ['content:read_any', 'security:manage', 'user:manage'] },
        },
      }),
      ev({
        action: AUDIT_ACTIONS.userAccessChanged,
        actor: admin,
        outcome: 'success',
        targetType: 'user',
        targetId: admin,
        metadata: {
          rolesBefore: ['user'],
          rolesAfter: ['editor'],
          before: { permissions: [] },
          after: { permissions: ['content:read_any'] },
        },
      }),
    ],
  },
  {
    rule: 'upload-infected',
    trigger: () => [ev({ action: AUDIT_ACTIONS.mediaInfected, actor: user })],
    below: () => [ev({ action: AUDIT_ACTIONS.mediaQuarantined, actor: user })],
  },
  {
    rule: 'client-blocked',
    // As the shield records an automatic block (src/security/shield/plugin.ts).
    trigger: () => [
      ev({
        action: AUDIT_ACTIONS.clientBlocked,
        actor: 'system',
        outcome: 'denied',
        targetType: 'client',
        targetId: '198.51.100.7',
        metadata: { level: 1, reason: 'rate_limited' },
      }),
    ],
    // Refusals while blocked, and plain rate limiting, are not a new block.
    below: () => [
      ev({ action: AUDIT_ACTIONS.rateLimited, actor: 'system' }),
      ev({ action: AUDIT_ACTIONS.httpBlocked, actor: 'anonymous', outcome: 'denied', metadata: { count: 40 } }),
    ],
  },
  {
    rule: 'signing-key-rotated',
    trigger: () => [
      ev({
        action: AUDIT_ACTIONS.keysRotated,
        actor: 'system',
        outcome: 'success',
        targetType: 'signing_key',
        targetId: 'k2',
      }),
    ],
    below: () => [ev({ action: AUDIT_ACTIONS.tokenIssued, actor: user, outcome: 'success' })],
  },
  {
    rule: 'backup-failed',
    trigger: () => [ev({ action: 'backup.drill.failed', actor: 'system' })],
    below: () => [ev({ action: 'backup.drill.completed', actor: 'system', outcome: 'success' })],
  },
  {
    // `backup create` failing (src/backup/create.ts), e.g. a scheduled run into an unwritable BACKUP_DIR.
    rule: 'backup-failed',
    trigger: () => [
      ev({
        action: AUDIT_ACTIONS.backupCreateFailed,
        actor: 'system',
        targetType: 'backup',
        targetId: 'create',
        metadata: { reason: 'scheduled', detail: 'ENOTDIR: not a directory' },
      }),
    ],
    below: () => [
      ev({
        action: 'backup.create.completed',
        actor: 'system',
        outcome: 'success',
        targetType: 'backup',
        targetId: 'x.gpg',
      }),
    ],
  },
];

describe('detection rules over the audit stream (each: one run that triggers, one that stays below)', () => {
  it('has a case for every built-in stream rule', () => {
    const stream = BUILT_IN_RULES.filter((r) => ['event', 'distinct', 'after-failures'].includes(r.kind ?? '')).map(
      (r) => r.name,
    );
    expect([...new Set(CASES.map((c) => c.rule))].sort()).toEqual(stream.sort());
  });

  for (const c of CASES) {
    const of = c.trigger()[0]?.action ?? '';
    it(`${c.rule} (${of}): triggers at its threshold`, () => {
      expect(fired(run(c.trigger()), c.rule).length).toBeGreaterThanOrEqual(1);
    });
    it(`${c.rule} (${of}): stays quiet below it`, () => {
      expect(fired(run(c.below()), c.rule)).toEqual([]);
    });
  }

  it('counts distinct accounts, not attempts: one account hammered from one client is not stuffing', () => {
    const signals = run(Array.from({ length: 100 }, (_, i) => failOn(user, '198.51.100.7', i)));
    expect(fired(signals, 'credential-stuffing-client')).toEqual([]);
    expect(fired(signals, 'credential-stuffing-network')).toEqual([]);
    expect(fired(signals, 'password-spraying')).toEqual([]);
  });

  it('slides its window: the same failures spread wider than the window raise nothing', () => {
    // 10 accounts from one client, one every 70 s: never 10 within 600 s.
    const signals = run(accounts(10).map((a, i) => failOn(a, '198.51.100.7', i * 70)));
    expect(fired(signals, 'credential-stuffing-client')).toEqual([]);
  });

  it('groups IPv6 clients by /64 for the network rule', () => {
    expect(networkOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
    const signals = run(accounts(20).map((a, i) => failOn(a, `2001:db8:1:2::${(i + 1).toString(16)}`, i)));
    expect(fired(signals, 'credential-stuffing-network').map((s) => s.key)).toContain('2001:db8:1:2::/64');
  });

  it('a replay (raise: false) rebuilds the windows without raising, and the next event raises', () => {
    const engine = new DetectionEngine(resolveRules());
    const list = accounts(10);
    const replayed = list.slice(0, 9).flatMap((a, i) => engine.observe(failOn(a, '198.51.100.7', i), { raise: false }));
    expect(replayed).toEqual([]);
    const next = engine.observe(failOn(list[9] as string, '198.51.100.7', 9));
    expect(fired(next, 'credential-stuffing-client')).toHaveLength(1);
  });

  it('never looks at a password: the events it reads carry none, and a rule cannot name metadata fields', () => {
    expect(() =>
      parseRuleSpecs(
        '[{"name":"x","kind":"distinct","distinct":"metadata.password","match":{"actions":["auth.login.failed"]}}]',
      ),
    ).toThrow(/distinct must be one of/);
  });
});

describe('the rule file (MONITORING_RULES_FILE)', () => {
  it('changes a built-in rule by name, adds one, turns one off', () => {
    const rules = resolveRules(
      parseRuleSpecs(
        JSON.stringify([
          { name: 'credential-stuffing-client', threshold: 3 },
          { name: 'audit-export', kind: 'event', severity: 'info', match: { actions: ['audit.export'] } },
          { name: 'password-spraying', enabled: false },
        ]),
      ),
    );
    expect(rules.find((r) => r.name === 'credential-stuffing-client')).toMatchObject({
      threshold: 3,
      window: 600,
      severity: 'critical',
    });
    expect(rules.find((r) => r.name === 'audit-export')).toMatchObject({ kind: 'event', threshold: 1 });
    expect(rules.some((r) => r.name === 'password-spraying')).toBe(false);
  });

  it.each([
    ['not json', /must be JSON/],
    ['{"a":1}', /list of rules/],
    ['[{"name":"Bad Name"}]', /name must be/],
    ['[{"name":"x","threshold":0}]', /threshold must be a whole number/],
    ['[{"name":"x","severity":"urgent"}]', /severity must be/],
    ['[{"name":"x","window":"600"}]', /window must be a whole number/],
    ['[{"name":"x","kind":"event","match":{"actions":["DROP TABLE"]}}]', /not a dotted lower-case audit action/],
    ['[{"name":"x","surprise":true}]', /unknown field "surprise"/],
    ['[{"name":"x"},{"name":"x"}]', /listed twice/],
  ])('refuses %s', (text, why) => {
    expect(() => parseRuleSpecs(text)).toThrow(why);
  });

  it('refuses an incomplete new rule when merged with the built-ins', () => {
    expect(() => resolveRules(parseRuleSpecs('[{"name":"new-rule","threshold":3}]'))).toThrow(/new-rule.*needs a kind/);
    expect(() =>
      resolveRules(parseRuleSpecs('[{"name":"new-rule","kind":"distinct","match":{"actions":["auth.login.failed"]}}]')),
    ).toThrow(/needs distinct/);
  });
});
