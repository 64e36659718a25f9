import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../services/src/platform/ports";
import { ADMIN_USER, adminHtpasswd, renderAdminGatewayConf } from "./admin-gateway";

// The Kubernetes admin gateway's nginx config and password file, run by the real nginx (Debian's,
// as the floodgate nginx image has it) in front of a stand-in UI: nothing reaches the UI without
// the admin password, and the bcrypt line is one nginx's crypt() accepts.

const PASSWORD = "admin-pass: 40 random characters in a real stack";
let tmp: string;
let nginx: ChildProcess;
let ui: http.Server;
let gatewayPort: number;
const seen: string[] = [];

function nginxBinary(): string {
  const found = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].find((p) => fs.existsSync(p));
  if (!found) throw new Error("nginx is not installed: npm test's bootstrap installs it");
  return found;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nginx did not listen on ${port}`);
}

const get = (auth?: string) =>
  fetch(`http://127.0.0.1:${gatewayPort}/api/v1/query?query=up`, {
    headers: auth === undefined ? {} : { authorization: `Basic ${Buffer.from(auth).toString("base64")}` },
  });

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "floodgate-admin-gateway-"));
  // nginx's workers run as nobody when started as root (CI): they must read the password file.
  fs.chmodSync(tmp, 0o755);
  ui = http.createServer((req, res) => {
    seen.push(req.url ?? "");
    res.end("ui answered");
  });
  const uiPort = await freePort();
  await new Promise<void>((resolve) => ui.listen(uiPort, "127.0.0.1", resolve));
  gatewayPort = await freePort();
  const htpasswd = path.join(tmp, "htpasswd");
  fs.writeFileSync(htpasswd, adminHtpasswd(PASSWORD), { mode: 0o644 });
  const conf = path.join(tmp, "nginx.conf");
  fs.writeFileSync(
    conf,
    renderAdminGatewayConf([{ name: "prometheus", listenPort: gatewayPort, upstream: `127.0.0.1:${uiPort}` }], {
      prefix: tmp,
      htpasswd,
    })
      .replace(`listen ${gatewayPort};`, `listen 127.0.0.1:${gatewayPort};`)
      // Node's pipes to a child are sockets, which nginx cannot open() by their /dev names.
      .replaceAll("/dev/stderr", path.join(tmp, "error.log"))
      .replaceAll("/dev/stdout", path.join(tmp, "access.log")),
  );
  nginx = spawn(nginxBinary(), ["-p", `${tmp}/`, "-e", path.join(tmp, "error.log"), "-c", conf], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let errors = "";
  nginx.stderr!.on("data", (b: Buffer) => (errors += b.toString()));
  await waitForPort(gatewayPort).catch((err: Error) => {
    const log = path.join(tmp, "error.log");
    throw new Error(`${err.message}:\n${errors}${fs.existsSync(log) ? fs.readFileSync(log, "utf8") : ""}`);
  });
});

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx.once("exit", resolve));
    nginx.kill("SIGTERM");
    await exited;
  }
  await new Promise<void>((resolve) => ui?.close(() => resolve()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the admin gateway (real nginx)", () => {
  it("refuses a request without credentials, asking for them, and never forwards it", async () => {
    const res = await get();
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Basic realm="floodgate prometheus"');
    expect(seen).toEqual([]);
  });

  it("refuses a wrong password and a wrong user", async () => {
    expect((await get(`${ADMIN_USER}:not-the-password`)).status).toBe(401);
    expect((await get(`root:${PASSWORD}`)).status).toBe(401);
    expect(seen).toEqual([]);
  });

  it("forwards the admin's request to the UI", async () => {
    const res = await get(`${ADMIN_USER}:${PASSWORD}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ui answered");
    expect(seen).toEqual(["/api/v1/query?query=up"]);
  });
});

describe("adminHtpasswd", () => {
  it("renders the same line for the same password, and another for another", () => {
    expect(adminHtpasswd(PASSWORD)).toBe(adminHtpasswd(PASSWORD));
    expect(adminHtpasswd(PASSWORD)).not.toBe(adminHtpasswd(`${PASSWORD}!`));
    expect(adminHtpasswd(PASSWORD)).toMatch(/^admin:\$2b\$12\$[./A-Za-z0-9]{53}\n$/);
  });
});
