import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";

/** Where published static files go: a directory locally, an S3-compatible bucket in the cloud. */
export interface StaticBucket {
  /** Store `body` under `name`, replacing any previous object atomically (readers see old or new, never half). */
  put(name: string, body: string | Buffer, contentType: string): Promise<void>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A bucket on the filesystem (nginx serves the directory under /static/). */
export class FsStaticBucket implements StaticBucket {
  constructor(private readonly dir: string) {}

  /** Write to a temporary name in the same directory, then rename: rename is atomic on one filesystem. */
  async put(name: string, body: string | Buffer, _contentType: string): Promise<void> {
    if (!NAME.test(name)) throw new Error(`not a flat object name: ${name}`);
    await fs.mkdir(this.dir, { recursive: true });
    const target = path.join(this.dir, name);
    // Hidden, and not shaped like a content-hashed name, so the edge never caches a half-written file forever.
    const temp = path.join(this.dir, `.${name}.tmp-${randomBytes(6).toString("hex")}`);
    try {
      await fs.writeFile(temp, body, { mode: 0o644 });
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
  }
}
