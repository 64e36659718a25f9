import { randomBytes } from "node:crypto";
import { testAddresses, testTopology } from "../stack/test-stack";
import { at } from "./checked";

/** The API's base URL through the test stack's nginx. */
export const apiBase = () => `http://127.0.0.1:${testAddresses().nginx.port}/api/v1`;

/** A parsed HTTP answer. */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** Call the API (through nginx unless `base` points at one replica); JSON in, JSON out. */
export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string>; base?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] = "application/json";
  } else if (opts.rawBody !== undefined) headers["content-type"] ??= "application/json";
  const res = await fetch(`${opts.base ?? apiBase()}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** A unique username for a test. */
export const uniqueName = (prefix = "u") => `${prefix}_${randomBytes(6).toString("hex")}`;

/** A registered, logged-in user. */
export interface TestUser {
  id: number;
  username: string;
  password: string;
  token: string;
}

/** Register a fresh user and log in. */
export async function buildUser(overrides: { username?: string; password?: string } = {}): Promise<TestUser> {
  const username = overrides.username ?? uniqueName();
  const password = overrides.password ?? `pw-${randomBytes(8).toString("hex")}`;
  const created = await call<{ id: number }>("POST", "/users", { body: { username, password } });
  if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${JSON.stringify(created.body)}`);
  const session = await call<{ token: string }>("POST", "/sessions", { body: { username, password } });
  if (session.status !== 200) throw new Error(`login failed: ${session.status} ${JSON.stringify(session.body)}`);
  return { id: created.body.id, username, password, token: session.body.token };
}

/** A token for the administrator the stack seeds. */
export async function adminToken(): Promise<string> {
  const { username, password } = testTopology().api.admin;
  const session = await call<{ token: string }>("POST", "/sessions", { body: { username, password } });
  if (session.status !== 200) throw new Error(`admin login failed: ${session.status} ${JSON.stringify(session.body)}`);
  return session.body.token;
}

/** The base URL of one API replica (bypassing nginx), for tests about a particular process. */
export const replicaBase = (index: number) =>
  `http://127.0.0.1:${at(testAddresses().api, index, "the API replica").port}/api/v1`;
