import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { exec } from "./exec";

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

  static async start(): Promise<ScratchMariadb> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fg-drill-"));
    const datadir = path.join(dir, "data");
    const socket = path.join(dir, "s.sock");
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
        "--skip-networking",
        `--pid-file=${path.join(dir, "mariadbd.pid")}`,
        `--log-error=${path.join(dir, "error.log")}`,
        "--innodb-buffer-pool-size=64M",
        ...user,
      ],
      { stdio: "ignore" },
    );
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
    const args = [
      "--no-defaults",
      "--protocol=socket",
      `--socket=${this.socket}`,
      "-uroot",
      "--batch",
      "--skip-column-names",
    ];
    return exec("mariadb", input ? args : [...args, "-e", statements], { input });
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
