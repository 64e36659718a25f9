import { createHash } from "node:crypto";
import bcrypt from "bcryptjs";

/** One admin UI the gateway publishes: the port it listens on and the in-cluster address it forwards to. */
export interface AdminRoute {
  name: string;
  listenPort: number;
  upstream: string;
}

/** Where the gateway's nginx keeps its files (the nginx image's layout). */
export interface AdminGatewayPaths {
  /** The prefix for the pid and temp files (an emptyDir on a read-only root). */
  prefix: string;
  /** The password file `auth_basic_user_file` reads. */
  htpasswd: string;
}

/** The one user the admin UIs know; its password is the stack's `adminPassword` secret. */
export const ADMIN_USER = "admin";

/** bcrypt's alphabet for its 22-character salt (not RFC 4648's base64). */
const BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * The htpasswd line for ADMIN_USER: a bcrypt hash (cost 12), which nginx checks through the C
 * library's crypt() (Debian's libxcrypt knows `$2b$`). The salt is derived from the password, so
 * the same password renders the same line and a `pulumi up` without a rotation changes no Secret
 * and restarts no pod; it is still unique per password, which is what a salt is for here (one hash,
 * never a table of users).
 */
export function adminHtpasswd(password: string): string {
  const digest = createHash("sha256").update(`floodgate-admin-salt\0${password}`).digest();
  const salt = Array.from(digest.subarray(0, 22), (b) => BCRYPT_ALPHABET.charAt(b % 64)).join("");
  // The last salt character carries only 2 bits: bcrypt ignores the rest, so keep it canonical.
  const canonical = salt.slice(0, 21) + BCRYPT_ALPHABET.charAt(BCRYPT_ALPHABET.indexOf(salt.charAt(21)) & 0x30);
  return `${ADMIN_USER}:${bcrypt.hashSync(password, `$2b$12$${canonical}`)}\n`;
}

/**
 * nginx.conf of the admin gateway: one server per UI, every request behind HTTP basic
 * authentication, forwarded to the UI's in-cluster Service. The UIs have no authentication of
 * their own; the gateway is the only way to them from outside the cluster, and its Service also
 * admits only the stack's `adminSourceRanges`. The upstreams' names are resolved at start: the
 * program creates their Services before the gateway.
 */
export function renderAdminGatewayConf(routes: AdminRoute[], paths: AdminGatewayPaths): string {
  const servers = routes.map((r) =>
    [
      `  # ${r.name}`,
      "  server {",
      `    listen ${r.listenPort};`,
      `    auth_basic "floodgate ${r.name}";`,
      `    auth_basic_user_file ${paths.htpasswd};`,
      "    location / {",
      `      proxy_pass http://${r.upstream};`,
      "      proxy_set_header Host $host;",
      "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
      // The UIs' long queries and Alertmanager's silences page.
      "      proxy_read_timeout 120s;",
      "    }",
      "  }",
    ].join("\n"),
  );
  return [
    "daemon off;",
    "worker_processes 1;",
    `pid ${paths.prefix}/nginx.pid;`,
    "error_log /dev/stderr warn;",
    "events { worker_connections 256; }",
    "http {",
    "  access_log /dev/stdout;",
    "  server_tokens off;",
    `  client_body_temp_path ${paths.prefix}/client_body_temp;`,
    `  proxy_temp_path ${paths.prefix}/proxy_temp;`,
    `  fastcgi_temp_path ${paths.prefix}/fastcgi_temp;`,
    `  uwsgi_temp_path ${paths.prefix}/uwsgi_temp;`,
    `  scgi_temp_path ${paths.prefix}/scgi_temp;`,
    ...servers,
    "}",
    "",
  ].join("\n");
}
