import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { exec } from "./exec";

/** Where and how a scratch server runs; the defaults are the restore drill's. */
export interface ScratchOptions {
  /** Its folder (created; must not hold a server yet); default: a fresh temp folder. */
  dir?: string;
  /** Its socket; default `<dir>/s.sock` (a Unix socket path must stay under 108 bytes). */
  socket?: string;
  /** Also listen on 127.0.0.1:port; default: no TCP at all. */
  port?: number;
  /** Outlive this process (the restore runbook's instances); stop it later with `stopIn(dir)`. */
  detached?: boolean;
}

/**
 * A throwaway MariaDB server for restore drills: a fresh data directory in a temp folder, reachable
 * only through its own socket (no TCP port), root by socket authentication. `stop()` kills it and
 * removes everything.
 */
export class ScratchMariadb {
  private constructor(
    readonly dir: string,
    readonly socket: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(opts: ScratchOptions = {}): Promise<ScratchMariadb> {
    const dir = opts.dir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "fg-drill-")));
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const datadir = path.join(dir, "data");
    const socket = opts.socket ?? path.join(dir, "s.sock");
    // As root, MariaDB refuses to run unless told to (the stack does the same).
    const user = process.getuid?.() === 0 ? ["--user=root"] : [];
    try {
      await exec("mariadb-install-db", ["--no-defaults", `--datadir=${datadir}`, "--skip-test-db", ...user]);
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    }
    const child = spawn(
      "mariadbd",
      [
        "--no-defaults",
        `--datadir=${datadir}`,
        `--socket=${socket}`,
        ...(opts.port === undefined ? ["--skip-networking"] : ["--bind-address=127.0.0.1", `--port=${opts.port}`]),
        `--pid-file=${path.join(dir, "mariadbd.pid")}`,
        `--log-error=${path.join(dir, "error.log")}`,
        "--innodb-buffer-pool-size=64M",
        ...user,
      ],
      { stdio: "ignore", detached: opts.detached ?? false },
    );
    if (opts.detached) child.unref();
    const server = new ScratchMariadb(dir, socket, child);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await server.sql("SELECT 1");
        return server;
      } catch (err) {
        if (child.exitCode !== null || Date.now() > deadline) {
          const log = await fs.readFile(path.join(dir, "error.log"), "utf8").catch(() => "");
          await server.stop();
          throw new Error(
            `scratch MariaDB did not start: ${(err as Error).message} ${log.split("\n").slice(-3).join(" | ")}`,
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Run SQL as root; tab-separated rows without headers. */
  sql(statements: string, input?: NodeJS.ReadableStream): Promise<string> {
    return ScratchMariadb.sqlOn(this.socket, statements, input);
  }

  /**
   * The account to use: mariadb-install-db gives every privilege, by socket authentication, to root
   * and to the OS user who ran it — so a non-root user (the app image's `node`, which runs the
   * restore drill on Docker and Kubernetes) connects as itself, not as root.
   */
  static readonly account = os.userInfo().username;

  /** Run SQL with every privilege on the server at `socket` (one started earlier, maybe by another process). */
  static sqlOn(socket: string, statements: string, input?: NodeJS.ReadableStream): Promise<string> {
    const args = [
      "--no-defaults",
      "--protocol=socket",
      `--socket=${socket}`,
      `--user=${ScratchMariadb.account}`,
      "--batch",
      "--skip-column-names",
    ];
    return exec("mariadb", input ? args : [...args, "-e", statements], { input });
  }

  /** The pid of the server running from `dir` (by its pid file), or null when none runs there. */
  static async pidIn(dir: string): Promise<number | null> {
    const pid = Number(await fs.readFile(path.join(dir, "mariadbd.pid"), "utf8").catch(() => ""));
    if (!(pid > 0)) return null;
    // Only the mariadbd of this folder: a stale pid file may name a process that is not ours.
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    return cmdline.split("\0").includes(`--datadir=${path.join(dir, "data")}`) ? pid : null;
  }

  /**
   * Stop the server kept in `dir` (by its pid file, as a later process must) and remove the folder;
   * a no-op when nothing is there. False when it would not exit within `timeoutMs` (folder kept).
   */
  static async stopIn(dir: string, timeoutMs = 30_000): Promise<boolean> {
    const pid = await ScratchMariadb.pidIn(dir);
    if (pid !== null) {
      process.kill(pid, "SIGTERM");
      const deadline = Date.now() + timeoutMs;
      while ((await ScratchMariadb.pidIn(dir)) !== null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      if ((await ScratchMariadb.pidIn(dir)) !== null) return false;
    }
    await fs.rm(dir, { recursive: true, force: true });
    return true;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (this.child.exitCode === null) this.child.kill("SIGKILL");
    }
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
