import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../platform/clock.js';
import { AppError } from '../http/errors.js';

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  sub: string;
  jti: string;
  type: TokenType;
  iat: number;
  exp: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  accessTtl: number;
  refreshTtl: number;
}

/**
 * Signs and verifies the API's JWTs with jose. Verification pins the algorithm (no `alg: none`,
 * no algorithm confusion), the issuer, the audience and the token type, so a refresh token is
 * never accepted where an access token is expected and vice versa.
 */
export class TokenService {
  private readonly key: Uint8Array;
  static readonly ALGORITHM = 'HS256';
  static readonly CLOCK_TOLERANCE_S = 5;

  constructor(
    private readonly settings: TokenSettings,
    private readonly clock: Clock,
  ) {
    this.key = new TextEncoder().encode(settings.secret);
  }

  async issuePair(userId: string): Promise<TokenPair> {
    const [accessToken, refreshToken] = await Promise.all([
      this.sign(userId, 'access', this.settings.accessTtl),
      this.sign(userId, 'refresh', this.settings.refreshTtl),
    ]);
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.settings.accessTtl };
  }

  private sign(userId: string, type: TokenType, ttl: number): Promise<string> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    return new SignJWT({ type })
      .setProtectedHeader({ alg: TokenService.ALGORITHM, typ: 'JWT' })
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttl)
      .sign(this.key);
  }

  async verify(token: string, type: TokenType): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [TokenService.ALGORITHM],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: TokenService.CLOCK_TOLERANCE_S,
        currentDate: this.clock.now(),
        requiredClaims: ['sub', 'jti', 'exp', 'iat'],
      });
      if (payload['type'] !== type) throw invalidToken();
      return payload as unknown as TokenClaims;
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof joseErrors.JWTExpired) {
        throw new AppError(401, 'TOKEN_EXPIRED', 'Unauthorized', 'The token has expired', {
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        });
      }
      throw invalidToken();
    }
  }
}

function invalidToken(): AppError {
  return new AppError(401, 'INVALID_TOKEN', 'Unauthorized', 'The token is invalid', {
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  });
}
