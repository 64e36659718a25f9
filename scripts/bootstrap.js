#!/usr/bin/env node
// Runs before dependencies exist, on whatever Node the machine has (20 or later): plain
// CommonJS, no dependencies. Installs what is missing — npm packages (which bring Node 24)
// and the Debian packages of the real components — then hands over to Node 24:
//   node scripts/bootstrap.js stack [args]   the local stack CLI (npm start, npm run stack)
//   node scripts/bootstrap.js run SCRIPT     an npm script (npm test)
//   node scripts/bootstrap.js ts FILE [args] a TypeScript program (npm run bench, npm run chaos)
"use strict";
const { spawnSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");

/** Debian packages and one file each proves installed. */
const DEBIAN_PACKAGES = {
  nginx: "/usr/sbin/nginx",
  "mariadb-server": "/usr/sbin/mariadbd",
  "mariadb-client": "/usr/bin/mariadb",
  "mariadb-backup": "/usr/bin/mariadb-backup",
  "redis-server": "/usr/bin/redis-server",
  "redis-tools": "/usr/bin/redis-cli",
  "rabbitmq-server": "/usr/lib/rabbitmq/bin/rabbitmq-server",
  prometheus: "/usr/bin/prometheus",
  "prometheus-alertmanager": "/usr/bin/prometheus-alertmanager",
  "prometheus-mysqld-exporter": "/usr/bin/prometheus-mysqld-exporter",
  "prometheus-redis-exporter": "/usr/bin/prometheus-redis-exporter",
  "prometheus-nginx-exporter": "/usr/bin/prometheus-nginx-exporter",
  "prometheus-node-exporter": "/usr/bin/prometheus-node-exporter",
};

function say(message) {
  process.stdout.write(`[bootstrap] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[bootstrap] ${message}\n`);
  process.exit(1);
}

function runOrFail(command, args, options = {}) {
  say(`$ ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit", cwd: root, ...options });
  if (result.error) fail(`${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args[0] || ""} exited with ${result.status}`);
}

function ensureDebianPackages() {
  const missing = Object.keys(DEBIAN_PACKAGES).filter((pkg) => !fs.existsSync(DEBIAN_PACKAGES[pkg]));
  if (missing.length === 0) return;
  say(`installing Debian packages: ${missing.join(" ")}`);
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasSudo = spawnSync("sh", ["-c", "command -v sudo"], { stdio: "ignore" }).status === 0;
  if (!isRoot && !hasSudo) fail(`run as root (or install sudo) to install: apt-get install -y ${missing.join(" ")}`);
  const prefix = isRoot ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args) => runOrFail(prefix[0] || "apt-get", [...(prefix.length ? ["apt-get"] : []), ...args], { env });
  apt(["update", "-q"]);
  apt(["install", "-y", "-q", ...missing]);
  const still = missing.filter((pkg) => !fs.existsSync(DEBIAN_PACKAGES[pkg]));
  if (still.length) fail(`still missing after apt-get install: ${still.join(" ")}`);
}

function ensureNodeModules() {
  const lock = path.join(root, "package-lock.json");
  const stamp = path.join(root, "node_modules", ".package-lock.json");
  const node24 = path.join(root, "node_modules", ".bin", "node");
  const fresh =
    fs.existsSync(stamp) && fs.existsSync(node24) && fs.statSync(stamp).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) return;
  say("installing npm dependencies (npm ci)");
  runOrFail("npm", ["ci", "--no-audit", "--no-fund"]);
}

function handOver(command, args) {
  const bin = path.join(root, "node_modules", ".bin");
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH || ""}` };
  const child = spawn(command, args, { stdio: "inherit", cwd: root, env });
  // The terminal sends Ctrl-C to the whole foreground group; the child handles it and we wait for it.
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  process.on("SIGHUP", () => child.kill("SIGHUP"));
  child.on("exit", (code, signal) => process.exit(code === null ? (signal === "SIGINT" ? 130 : 1) : code));
}

function main() {
  const [mode, ...rest] = process.argv.slice(2);
  if (!["stack", "run", "ts"].includes(mode)) fail("usage: bootstrap.js stack [args] | run SCRIPT | ts FILE [args]");
  ensureNodeModules();
  ensureDebianPackages();
  const node24 = path.join(root, "node_modules", ".bin", "node");
  if (mode === "stack") {
    handOver(node24, ["--import", "tsx", path.join(root, "infra", "targets", "local", "main.ts"), ...rest]);
  } else if (mode === "ts") {
    handOver(node24, ["--import", "tsx", path.resolve(root, rest[0]), ...rest.slice(1)]);
  } else {
    handOver("npm", ["run", "--silent", ...rest]);
  }
}

main();
