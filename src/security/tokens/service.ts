/**
 * Token security: issuing, verifying, rotating and revoking the API's JWTs.
 *
 * - Access tokens are verified once per node (jose, pinned algorithms, iss/aud/exp/nbf/type) and
 *   the result is remembered in an LRU keyed by the token itself; revocation is checked on every
 *   request against RevocationCache (local, kept current through the KV channel).
 * - Refresh tokens are single use: a compare-and-set in PostgreSQL marks one spent and records
 *   its successor. A second use within REFRESH_REUSE_GRACE by the same client gets that same
 *   successor (re-signed from the stored claims; with Ed25519, byte for byte the same token); any
 *   other reuse revokes the session and its family.
 */
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import type { BindingPart } from '../../config/schema.js';
import { AppError } from '../../http/errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { fingerprint, type ClientFacts } from '../../http/request-identity.js';
import {
  isWellFormed,
  orderedClaims,
  type AccessClaims,
  type AnyClaims,
  type RefreshClaims,
  type Restriction,
  type TokenType,
} from './claims.js';
import type { KeyRing, RingKey } from './keys.js';
import { TokenRepository, type Successor, type UserTokenState } from './repository.js';
import { RevocationCache } from './revocation.js';
import { Sessions } from './sessions.js';
import { describeUserAgent, USER_AGENT_MAX } from './user-agent.js';

export type BindingMode = 'off' | 'permissive' | 'strict';
export type RevokeReason = 'logout_all' | 'password_change' | 'password_reset' | 'admin' | 'disabled' | 'mfa_reset';

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTtl: number;
  refreshTtl: number;
  clockTolerance: number;
  reuseGrace: number;
  binding: BindingMode;
  bindingParts: readonly BindingPart[];
  cacheSize: number;
}

/** Longest accepted token, in characters: anything longer is refused before parsing. */
export const TOKEN_MAX_LENGTH = 4096;

/** Why a token was refused: for the audit log only; the client always gets the same answer. */
export type TokenFailure =
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'algorithm_not_allowed'
  | 'unknown_kid'
  | 'bad_claims'
  | 'wrong_type'
  | 'user_unknown'
  | 'user_disabled'
  | 'version_revoked'
  | 'session_revoked'
  | 'jti_revoked'
  | 'binding_mismatch'
  | 'refresh_unknown'
  | 'refresh_reused';

/** Every refused token gets this one answer, whatever the reason (no oracle for attackers). */
export class TokenError extends AppError {
  constructor(
    readonly reason: TokenFailure,
    readonly userId: string | null = null,
    readonly sessionId: string | null = null,
  ) {
    super(401, 'INVALID_TOKEN', 'Unauthorized', 'The token is invalid or has expired', {
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    });
  }
}

export interface IssuedPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshExpiresIn: number;
  sessionId: string;
  userId: string;
}

export interface SessionStart {
  userId: string;
  amr: string[];
  /** When the user proved who they are; defaults to now. */
  authTime?: Date;
  restriction?: Restriction | undefined;
}

export interface Checked {
  claims: AccessClaims;
  user: UserTokenState;
  /** Permissive binding: the fingerprint differs, to be logged once per token. */
  bindingMismatch: boolean;
}

export interface RefreshOutcome {
  pair: IssuedPair;
  /** 'grace': a repeated use within the grace window got the same successor. */
  kind: 'rotated' | 'grace';
  bindingMismatch: boolean;
}

export type UserRevokedHook = (userId: string, reason: RevokeReason) => Promise<void>;

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

export class TokenService {
  readonly repo: TokenRepository;
  readonly revocation: RevocationCache;
  /** Listing and ending a user's sessions. */
  readonly sessions: Sessions;
  private readonly verified: Map<string, AccessClaims> = new Map();
  private readonly userRevokedHooks: UserRevokedHook[] = [];

  constructor(
    private readonly db: Db,
    readonly ring: KeyRing,
    revocation: RevocationCache | ((repo: TokenRepository) => RevocationCache),
    private readonly clock: Clock,
    readonly settings: TokenSettings,
  ) {
    this.repo = new TokenRepository(db);
    this.revocation = typeof revocation === 'function' ? revocation(this.repo) : revocation;
    this.sessions = new Sessions(this.repo, this.revocation, clock);
  }

  /** Called (in order) whenever every token of a user is revoked: MFA drops trusted devices, etc. */
  onUserRevoked(hook: UserRevokedHook): void {
    this.userRevokedHooks.push(hook);
  }

  /** Fingerprints of recent clients: the same browser sends the same facts on every request. */
  private readonly fingerprints = new Map<string, string>();

  fingerprintOf(client: ClientFacts): string {
    const key = `${client.ip}\n${client.userAgent}`;
    let fgp = this.fingerprints.get(key);
    if (fgp === undefined) {
      fgp = fingerprint(this.settings.bindingParts, client);
      if (this.fingerprints.size >= 10_000) this.fingerprints.clear();
      this.fingerprints.set(key, fgp);
    }
    return fgp;
  }

  private now(): Date {
    return this.clock.now();
  }

  // ---- signing ------------------------------------------------------------------------------

  private async sign(claims: AnyClaims, key: RingKey): Promise<string> {
    if (!key.privateKey) throw new Error(`key ${key.kid} cannot sign`);
    const header: JWTHeaderParameters = { alg: key.alg, kid: key.kid, typ: 'JWT' };
    return new SignJWT(orderedClaims(claims)).setProtectedHeader(header).sign(key.privateKey);
  }

  private claimsFor(
    base: {
      userId: string;
      sid: string;
      fam: string;
      ver: number;
      fgp: string;
      amr: string[];
      authTime: number;
      scp?: Restriction | undefined;
    },
    now: Date,
  ): { access: AccessClaims; refresh: RefreshClaims } {
    const iat = epoch(now);
    const common = {
      iss: this.settings.issuer,
      aud: this.settings.audience,
      sub: base.userId,
      iat,
      nbf: iat,
      sid: base.sid,
      ver: base.ver,
      fgp: base.fgp,
      amr: base.amr,
      auth_time: base.authTime,
      ...(base.scp ? { scp: base.scp } : {}),
    };
    return {
      access: { ...common, jti: randomUUID(), type: 'access', exp: iat + this.settings.accessTtl },
      refresh: { ...common, jti: randomUUID(), type: 'refresh', exp: iat + this.settings.refreshTtl, fam: base.fam },
    };
  }

  private async pairOf(successor: Successor, key: RingKey): Promise<IssuedPair> {
    const [accessToken, refreshToken] = await Promise.all([
      this.sign(successor.access, key),
      this.sign(successor.refresh, key),
    ]);
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: successor.access.exp - epoch(this.now()),
      refreshExpiresIn: successor.refresh.exp - epoch(this.now()),
      sessionId: successor.access.sid,
      userId: successor.access.sub,
    };
  }

  /**
   * Starts a session after a successful sign-in: the session row, a new refresh family and the
   * first token pair. `tx` lets a caller commit the session with its own writes (audit).
   */
  async startSession(start: SessionStart, client: ClientFacts, tx?: Queryable): Promise<IssuedPair> {
    const now = this.now();
    const run = async (q: Queryable) => {
      const user = await this.repo.userState(start.userId, q);
      if (!user || user.disabled) throw new TokenError(user ? 'user_disabled' : 'user_unknown', start.userId);
      const key = this.ring.signer();
      const sid = randomUUID();
      const fam = randomUUID();
      const authTime = start.authTime ?? now;
      const claims = this.claimsFor(
        {
          userId: user.id,
          sid,
          fam,
          ver: user.tokenVersion,
          fgp: this.fingerprintOf(client),
          amr: start.amr,
          authTime: epoch(authTime),
          scp: start.restriction,
        },
        now,
      );
      await this.repo.createSession(
        {
          id: sid,
          userId: user.id,
          familyId: fam,
          now,
          expiresAt: new Date(claims.refresh.exp * 1000),
          ip: client.ip,
          userAgent: client.userAgent.slice(0, USER_AGENT_MAX),
          ...describeUserAgent(client.userAgent),
          amr: start.amr,
          authTime,
        },
        q,
      );
      await this.repo.insertRefresh(claims.refresh, q);
      return { kid: key.kid, ...claims };
    };
    const successor = tx ? await run(tx) : await this.db.transaction(run);
    return this.pairOf(successor, this.ring.signer());
  }

  // ---- verification -------------------------------------------------------------------------

  /** Signature and claims of a token; no revocation check (see `check`). */
  async verify<T extends TokenType>(
    token: string,
    type: T,
  ): Promise<T extends 'access' ? AccessClaims : RefreshClaims> {
    type Out = T extends 'access' ? AccessClaims : RefreshClaims;
    // A remembered token is exactly a string that passed every check below before.
    if (type === 'access' && this.settings.cacheSize > 0) {
      const hit = this.verified.get(token);
      if (hit) {
        const nowS = epoch(this.now());
        if (hit.exp + this.settings.clockTolerance > nowS && hit.nbf - this.settings.clockTolerance <= nowS)
          return hit as Out;
        this.verified.delete(token);
        throw new TokenError(hit.exp + this.settings.clockTolerance <= nowS ? 'expired' : 'not_yet_valid', hit.sub);
      }
    }
    if (token.length > TOKEN_MAX_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) {
      throw new TokenError('malformed');
    }
    let payload: Record<string, unknown>;
    try {
      const result = await jwtVerify(token, (header) => this.keyFor(header), {
        algorithms: ['EdDSA', 'ES256'],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: this.settings.clockTolerance,
        currentDate: this.now(),
        requiredClaims: ['sub', 'jti', 'exp', 'iat', 'nbf'],
        typ: 'JWT',
      });
      payload = result.payload;
    } catch (err) {
      throw this.failureOf(err);
    }
    if (!isWellFormed(payload, type)) throw new TokenError(payload['type'] !== type ? 'wrong_type' : 'bad_claims');
    const claims = payload as unknown as Out;
    if (type === 'access' && this.settings.cacheSize > 0) {
      this.verified.set(token, claims as AccessClaims);
      if (this.verified.size > this.settings.cacheSize)
        this.verified.delete(this.verified.keys().next().value as string);
    }
    return claims;
  }

  private async keyFor(header: JWTHeaderParameters) {
    const kid = header.kid;
    // A kid is a base64url thumbprint; anything else (paths, quotes, SQL) is refused unread.
    if (typeof kid !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(kid)) throw new TokenError('unknown_kid');
    const key = await this.ring.verifier(kid);
    if (!key) throw new TokenError('unknown_kid');
    // The key decides the algorithm, never the token (algorithm confusion).
    if (header.alg !== key.alg) throw new TokenError('algorithm_not_allowed');
    return key.publicKey;
  }

  private failureOf(err: unknown): TokenError {
    if (err instanceof TokenError) return err;
    if (err instanceof joseErrors.JWTExpired) return new TokenError('expired');
    if (err instanceof joseErrors.JWTClaimValidationFailed)
      return new TokenError(err.claim === 'nbf' ? 'not_yet_valid' : 'bad_claims');
    if (err instanceof joseErrors.JOSEAlgNotAllowed) return new TokenError('algorithm_not_allowed');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenError('bad_signature');
    return new TokenError('malformed');
  }

  /**
   * Everything that can revoke a valid access token: the user (exists, enabled, token version),
   * the session, the jti denylist, and the binding. From the local cache while it is current.
   */
  async check(claims: AccessClaims, client: ClientFacts): Promise<Checked> {
    // The common case answers from the local copy without a single await; otherwise the three
    // lookups go to the database together.
    const [user, sessionRevoked, jtiRevoked] =
      this.revocation.cached(claims.sub, claims.sid, claims.jti) ??
      (await Promise.all([
        this.revocation.user(claims.sub),
        this.revocation.sessionRevoked(claims.sid),
        this.revocation.jtiRevoked(claims.jti),
      ]));
    if (!user) throw new TokenError('user_unknown', claims.sub, claims.sid);
    if (user.disabled) throw new TokenError('user_disabled', user.id, claims.sid);
    if (claims.ver !== user.tokenVersion) throw new TokenError('version_revoked', user.id, claims.sid);
    if (sessionRevoked) throw new TokenError('session_revoked', user.id, claims.sid);
    if (jtiRevoked) throw new TokenError('jti_revoked', user.id, claims.sid);
    const bindingMismatch = this.bindingMismatch(claims.fgp, client);
    if (bindingMismatch && this.settings.binding === 'strict')
      throw new TokenError('binding_mismatch', user.id, claims.sid);
    return { claims, user, bindingMismatch };
  }

  private bindingMismatch(fgp: string, client: ClientFacts): boolean {
    if (this.settings.binding === 'off') return false;
    return fgp !== this.fingerprintOf(client);
  }

  // ---- rotation -----------------------------------------------------------------------------

  async refresh(token: string, client: ClientFacts): Promise<RefreshOutcome> {
    const claims = await this.verify(token, 'refresh');
    const user = await this.repo.userState(claims.sub);
    if (!user) throw new TokenError('user_unknown', claims.sub, claims.sid);
    if (user.disabled) throw new TokenError('user_disabled', user.id, claims.sid);
    if (claims.ver !== user.tokenVersion) throw new TokenError('version_revoked', user.id, claims.sid);
    const fgp = this.fingerprintOf(client);
    const bindingMismatch = this.settings.binding !== 'off' && claims.fgp !== fgp;
    if (bindingMismatch && this.settings.binding === 'strict')
      throw new TokenError('binding_mismatch', user.id, claims.sid);

    const now = this.now();
    const key = this.ring.signer();
    const next = this.claimsFor(
      {
        userId: user.id,
        sid: claims.sid,
        fam: claims.fam,
        ver: user.tokenVersion,
        fgp,
        amr: claims.amr,
        authTime: claims.auth_time,
        scp: claims.scp,
      },
      now,
    );
    const successor: Successor = { kid: key.kid, ...next };
    const won = await this.db.transaction(async (tx) => {
      if (!(await this.repo.claimRefresh(claims.jti, fgp, successor, now, tx))) return false;
      await this.repo.insertRefresh(next.refresh, tx);
      await this.repo.extendSession(claims.sid, now, new Date(next.refresh.exp * 1000), tx);
      return true;
    });
    if (won) return { pair: await this.pairOf(successor, key), kind: 'rotated', bindingMismatch };
    return this.lostRace(claims, fgp, now, bindingMismatch);
  }

  /** The token was already spent or revoked: a parallel tab within the grace window, or a replay. */
  private async lostRace(
    claims: RefreshClaims,
    fgp: string,
    now: Date,
    bindingMismatch: boolean,
  ): Promise<RefreshOutcome> {
    const row = await this.repo.getRefresh(claims.jti);
    if (!row) throw new TokenError('refresh_unknown', claims.sub, claims.sid);
    if (row.revokedAt || row.sessionRevokedAt) throw new TokenError('session_revoked', row.userId, row.sessionId);
    if (row.spentAt && row.successor) {
      const age = (now.getTime() - new Date(row.spentAt).getTime()) / 1000;
      const sameClient = row.spentFgp !== null && row.spentFgp === fgp;
      const key = this.ring.signerByKid(row.successor.kid);
      // The window is bounded on both sides: a spend "in the future" beyond the clock tolerance
      // means this node's clock stepped back (or another node's is ahead), and must not reopen it.
      const inGrace = age >= -this.settings.clockTolerance && age <= this.settings.reuseGrace;
      if (inGrace && sameClient && key) {
        return { pair: await this.pairOf(row.successor, key), kind: 'grace', bindingMismatch };
      }
    }
    // A replay: whoever holds the successor (the real user or the thief) loses it too.
    await this.sessions.revoke(null, row.sessionId, 'refresh_reuse');
    throw new TokenError('refresh_reused', row.userId, row.sessionId);
  }

  // ---- revocation ---------------------------------------------------------------------------

  /** Logout: this access token (denylisted until it expires) and its session with its refresh family. */
  async logout(claims: Pick<AccessClaims, 'jti' | 'sid' | 'sub' | 'exp'>): Promise<void> {
    const now = this.now();
    await this.db.transaction(async (tx) => {
      await this.repo.denyJti(claims.jti, claims.sub, new Date(claims.exp * 1000), 'logout', now, tx);
      await this.repo.revokeSession(claims.sub, claims.sid, 'logout', now, tx);
    });
    await this.revocation.announce({ t: 'jti', id: claims.jti, exp: claims.exp * 1000 });
    await this.revocation.announce({ t: 'session', id: claims.sid });
  }

  /** Every token and session of a user, on every node: bumps the token version. */
  // Its own transaction, never the caller's: the announcement must follow the commit, or another
  // node could reread the old version between the two and keep it.
  async revokeUser(userId: string, reason: RevokeReason): Promise<void> {
    await this.db.transaction(async (q) => {
      await this.repo.bumpTokenVersion(userId, q);
      await this.repo.revokeAllSessions(userId, reason, this.now(), q);
    });
    await this.userChanged(userId);
    for (const hook of this.userRevokedHooks) await hook(userId, reason);
  }

  /** Roles or status of a user changed: every node rereads them. */
  async userChanged(userId: string): Promise<void> {
    await this.revocation.announce({ t: 'user', id: userId });
  }

  async purgeExpired() {
    return this.repo.purgeExpired(this.now());
  }
}
