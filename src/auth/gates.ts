/**
 * The login gates: checks that run after the password matched, before any token exists. Their
 * order is declared here, once, not by the order in which plugins happen to register: a gate
 * runs at its place in LOGIN_GATE_ORDER whoever registered it and whenever.
 *
 * The whole of `POST /api/auth/login`, top to bottom (./login.ts):
 *   1. canonical email (src/users/email.ts), refused before any counter or lookup;
 *   2. lockout reservation (src/security/accounts/lockout.ts via `app.accounts.guardLogin`);
 *   3. password check, same time for every failure (./service.ts `checkPassword`, audited by ./events.ts);
 *   4. the gates below, in this order;
 *   5. `completeLogin` (./service.ts): forced password change, the session and token pair
 *      (src/security/tokens), the audit events, the completed-login listeners.
 */
import type { FastifyRequest } from 'fastify';
import type { Restriction } from '../security/tokens/claims.js';

export const LOGIN_GATE_ORDER = [
  /** Second factor, trusted device, MFA enrollment deadline (src/security/mfa/plugin.ts). */
  'mfa',
  /** Risk of the sign-in: step-up or refusal for a suspicious one (src/security/accounts/suspicious.ts). */
  'suspicious-login',
] as const;

export type LoginGateName = (typeof LOGIN_GATE_ORDER)[number];

/** What a login gate decides after the password matched. */
export type LoginGateResult =
  | { kind: 'continue'; amr?: string[]; restriction?: Restriction; extra?: Record<string, unknown> }
  | { kind: 'respond'; body: Record<string, unknown> };

export type LoginGate = (ctx: {
  user: { id: string; email: string; roles: readonly string[] };
  request: FastifyRequest;
}) => Promise<LoginGateResult>;

export type MergedGateResult =
  | { kind: 'continue'; amr: string[]; restriction?: Restriction; extra: Record<string, unknown> }
  | (LoginGateResult & { kind: 'respond' });

export class LoginGates {
  private readonly gates = new Map<LoginGateName, LoginGate>();

  /** Registers the gate of that name; a name can be taken once. */
  add(name: LoginGateName, gate: LoginGate): void {
    if (this.gates.has(name)) throw new Error(`login gate "${name}" is already registered`);
    this.gates.set(name, gate);
  }

  /** The registered gates' names, in the order they run. */
  names(): LoginGateName[] {
    return LOGIN_GATE_ORDER.filter((name) => this.gates.has(name));
  }

  /** Runs the gates in their declared order: the first `respond` wins; `continue` results are merged. */
  async run(
    user: { id: string; email: string; roles: readonly string[] },
    request: FastifyRequest,
  ): Promise<MergedGateResult> {
    const merged: MergedGateResult & { kind: 'continue' } = { kind: 'continue', amr: [], extra: {} };
    for (const name of LOGIN_GATE_ORDER) {
      const gate = this.gates.get(name);
      if (!gate) continue;
      const result = await gate({ user: { id: user.id, email: user.email, roles: user.roles }, request });
      if (result.kind === 'respond') return result;
      merged.amr.push(...(result.amr ?? []));
      if (result.restriction && !merged.restriction) merged.restriction = result.restriction;
      Object.assign(merged.extra, result.extra ?? {});
    }
    return merged;
  }
}
