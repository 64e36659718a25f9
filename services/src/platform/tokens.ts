import { errors, jwtVerify, SignJWT } from "jose";
import { LRUCache } from "lru-cache";
import { UnauthorizedError } from "./errors";

/** Who a valid token speaks for. */
export interface Principal {
  userId: number;
  role: "user" | "admin";
}

const ISSUER = "floodgate";
const AUDIENCE = "floodgate-api";
const ALGORITHM = "HS256";

/** Issues and verifies access tokens: HS256 with algorithm, issuer, audience and expiry pinned. */
export class Tokens {
  private readonly key: Uint8Array;
  // Tokens this process has verified, until their expiry: a client sends the same token with every
  // request, and an HMAC check through WebCrypto per request was a tenth of a purchase's CPU. The
  // key is the whole token, signature included, so only the exact bytes verified before can hit.
  private readonly verified = new LRUCache<string, Principal & { expMs: number }>({ max: 100_000 });

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** A signed access token for `principal`. */
  async issue(principal: Principal): Promise<{ token: string; expiresIn: number }> {
    const token = await new SignJWT({ role: principal.role })
      .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
      .setSubject(String(principal.userId))
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
    return { token, expiresIn: this.ttlSeconds };
  }

  /** Verify a token; 401 token_expired or invalid_token otherwise. */
  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known && known.expMs > Date.now()) return { userId: known.userId, role: known.role };
    return this.verifySignature(token);
  }

  private async verifySignature(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ["sub", "exp", "iat"],
      });
      const userId = Number(payload.sub);
      const role = payload.role;
      if (!Number.isSafeInteger(userId) || userId <= 0 || (role !== "user" && role !== "admin"))
        throw new Error("bad claims");
      this.verified.set(token, { userId, role, expMs: Number(payload.exp) * 1000 });
      return { userId, role };
    } catch (err) {
      if (err instanceof errors.JWTExpired)
        throw UnauthorizedError("token_expired", "the token has expired; sign in again");
      throw UnauthorizedError("invalid_token", "the token is not valid");
    }
  }
}
