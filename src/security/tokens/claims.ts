/** The claims our tokens carry (docs/JWT_SECURITY_GUIDE.md explains each). */
export type TokenType = 'access' | 'refresh';

/** What a restricted token may still do: only the routes that opt in with `allowRestricted`. */
export type Restriction = 'mfa_enrollment' | 'password_change';
export const RESTRICTIONS: readonly Restriction[] = ['mfa_enrollment', 'password_change'];

export interface BaseClaims {
  iss: string;
  aud: string;
  sub: string;
  jti: string;
  type: TokenType;
  iat: number;
  nbf: number;
  exp: number;
  /** Session id (auth_sessions.id). */
  sid: string;
  /** The user's token version when issued; a bump revokes the token. */
  ver: number;
  /** Binding fingerprint: a hash of the client's User-Agent and/or address. */
  fgp: string;
  /** Authentication methods used (RFC 8176 values: pwd, otp, hwk, ...). */
  amr: string[];
  /** When the user last proved who they are (epoch seconds); step-up compares against it. */
  auth_time: number;
  /** Present on restricted tokens only. */
  scp?: Restriction;
}

export type AccessClaims = BaseClaims & { type: 'access' };
export type RefreshClaims = BaseClaims & { type: 'refresh'; fam: string };
export type AnyClaims = AccessClaims | RefreshClaims;

/**
 * Claims in one fixed order, so that re-signing the same claims with Ed25519 (a deterministic
 * signature) gives the same token byte for byte: the grace window hands out "the same successor".
 */
export function orderedClaims(c: AnyClaims): Record<string, unknown> {
  const out: Record<string, unknown> = {
    iss: c.iss,
    aud: c.aud,
    sub: c.sub,
    jti: c.jti,
    type: c.type,
    iat: c.iat,
    nbf: c.nbf,
    exp: c.exp,
    sid: c.sid,
    ver: c.ver,
    fgp: c.fgp,
    amr: c.amr,
    auth_time: c.auth_time,
  };
  if (c.type === 'refresh') out['fam'] = c.fam;
  if (c.scp) out['scp'] = c.scp;
  return out;
}

/** Shape check after signature verification: a valid signature over a malformed payload is still refused. */
export function isWellFormed(p: Record<string, unknown>, type: TokenType): p is Record<string, unknown> & AnyClaims {
  const str = (k: string) => typeof p[k] === 'string' && p[k].length > 0 && p[k].length <= 200;
  const num = (k: string) => Number.isSafeInteger(p[k]);
  if (p['type'] !== type) return false;
  if (!['sub', 'jti', 'sid', 'fgp', 'iss', 'aud'].every(str) || !['iat', 'exp', 'ver', 'auth_time'].every(num))
    return false;
  if (!Array.isArray(p['amr']) || !(p['amr'] as unknown[]).every((m) => typeof m === 'string')) return false;
  if (type === 'refresh' && !str('fam')) return false;
  if (p['scp'] !== undefined && !RESTRICTIONS.includes(p['scp'] as Restriction)) return false;
  return true;
}
