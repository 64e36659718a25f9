import { createSigner, createVerifier, TokenError } from "fast-jwt";
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

/**
 * Issues and verifies access tokens: HS256 with algorithm, issuer, audience and expiry pinned.
 * fast-jwt checks the HMAC with node:crypto, synchronously: through WebCrypto (jose) a first-seen
 * token's check was a fifth of a purchase's API time in a CPU profile of the bench's pure admission.
 */
export class Tokens {
  private readonly sign: (payload: { sub: string; role: Principal["role"] }) => string;
  private readonly check: (token: string) => { sub?: unknown; role?: unknown; exp?: unknown };
  // Tokens this process has verified, until their expiry: a client sends the same token with every
  // request. The key is the whole token, signature included, so only the exact bytes verified
  // before can hit.
  private readonly verified = new LRUCache<string, Principal & { expMs: number }>({ max: 100_000 });

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    const key = Buffer.from(secret, "utf8");
    this.sign = createSigner({ key, algorithm: ALGORITHM, iss: ISSUER, aud: AUDIENCE, expiresIn: ttlSeconds * 1000 });
    this.check = createVerifier({
      key,
      algorithms: [ALGORITHM],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
      requiredClaims: ["sub", "exp", "iat"],
    });
  }

  /** A signed access token for `principal`. */
  async issue(principal: Principal): Promise<{ token: string; expiresIn: number }> {
    const token = this.sign({ sub: String(principal.userId), role: principal.role });
    return { token, expiresIn: this.ttlSeconds };
  }

  /** Verify a token; 401 token_expired or invalid_token otherwise. */
  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known && known.expMs > Date.now()) return { userId: known.userId, role: known.role };
    return this.verifySignature(token);
  }

  private verifySignature(token: string): Principal {
    try {
      const payload = this.check(token);
      const userId = Number(payload.sub);
      const role = payload.role;
      if (!Number.isSafeInteger(userId) || userId <= 0 || (role !== "user" && role !== "admin"))
        throw new Error("bad claims");
      this.verified.set(token, { userId, role, expMs: Number(payload.exp) * 1000 });
      return { userId, role };
    } catch (err) {
      if (err instanceof TokenError && err.code === TokenError.codes.expired)
        throw UnauthorizedError("token_expired", "the token has expired; sign in again");
      throw UnauthorizedError("invalid_token", "the token is not valid");
    }
  }
}
