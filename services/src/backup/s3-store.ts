import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  NoSuchKey,
  paginateListObjectsV2,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createS3Client, type S3Endpoint } from "../platform/s3-client";
import {
  CorruptBackupError,
  describeFiles,
  MANIFEST,
  verifyFiles,
  type BackupKind,
  type BackupStore,
  type LocalBackup,
  type Manifest,
} from "./store";

/** Where an S3 store's bucket is, how it signs in, and where it works on local disk. */
export interface S3StoreOptions extends S3Endpoint {
  bucket: string;
  /** Local folder for backups in progress and for downloaded ones. */
  workDir: string;
}

/**
 * Backups in an S3 bucket: `<id>/<file>` for each file, then `<id>/manifest.json` last, so a backup
 * without its manifest (an upload cut short) is never listed. Files are built and restored in a
 * local work folder; a download is verified against the manifest's sha256 before anyone reads it.
 */
export class S3BackupStore implements BackupStore {
  private readonly s3: S3Client;

  constructor(private readonly opts: S3StoreOptions) {
    // The manifest's sha256 is the end-to-end check (the client asks for checksums only where S3 must).
    this.s3 = createS3Client(opts);
  }

  get location(): string {
    return `${this.opts.endpoint.replace(/\/$/, "")}/${this.opts.bucket}`;
  }

  async begin(id: string): Promise<string> {
    const work = path.join(this.opts.workDir, `${id}.partial`);
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true, mode: 0o700 });
    return work;
  }

  /** Upload every file (multipart when large), then the manifest; the local copy goes once it is in. */
  async commit(work: string, manifest: Omit<Manifest, "files">): Promise<Manifest> {
    const full: Manifest = { ...manifest, files: await describeFiles(work) };
    try {
      for (const f of full.files) {
        const body = createReadStream(path.join(work, f.name));
        await new Upload({ client: this.s3, params: { ...this.object(full.id, f.name), Body: body } }).done();
      }
      const json = JSON.stringify(full, null, 2);
      await this.s3.send(
        new PutObjectCommand({ ...this.object(full.id, MANIFEST), Body: json, ContentType: "application/json" }),
      );
    } catch (err) {
      // Without a manifest the upload is invisible anyway; this only gives its space back.
      await this.remove(full.id).catch(() => undefined);
      throw err;
    }
    await fs.rm(work, { recursive: true, force: true });
    return full;
  }

  async abandon(work: string): Promise<void> {
    await fs.rm(work, { recursive: true, force: true });
  }

  /** Reads only `<id>/manifest.json` objects; one that is not valid JSON or names another id is skipped. */
  async list(kind?: BackupKind): Promise<Manifest[]> {
    const out: Manifest[] = [];
    const pages = paginateListObjectsV2({ client: this.s3 }, { Bucket: this.opts.bucket, Prefix: kind && `${kind}-` });
    for await (const page of pages) {
      for (const { Key } of page.Contents ?? []) {
        const [id, name, ...deeper] = (Key ?? "").split("/");
        if (id === undefined || name !== MANIFEST || deeper.length > 0) continue;
        const text = await this.read(id, MANIFEST);
        const m = text === undefined ? undefined : parseManifest(text);
        if (m?.id === id && (!kind || m.kind === kind)) out.push(m);
      }
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Download every file into a fresh folder under the work folder, then check each sha256. */
  async fetch(m: Manifest): Promise<LocalBackup> {
    const dir = await fs.mkdtemp(path.join(this.opts.workDir, `${m.id}.restore-`));
    const release = () => fs.rm(dir, { recursive: true, force: true });
    try {
      const unsafe = m.files.filter((f) => path.basename(f.name) !== f.name || f.name === MANIFEST);
      if (unsafe.length) throw new CorruptBackupError(unsafe.map((f) => `${m.id}: unsafe file name ${f.name}`));
      for (const f of m.files) {
        const body = await this.get(m.id, f.name);
        if (body) await pipeline(body, createWriteStream(path.join(dir, f.name), { mode: 0o600 }));
      }
      const problems = await verifyFiles(dir, m);
      if (problems.length) throw new CorruptBackupError(problems);
      return { dir, release };
    } catch (err) {
      await release();
      throw err;
    }
  }

  async remove(id: string): Promise<void> {
    if (!/^[^/]+$/.test(id)) throw new Error(`backup id ${JSON.stringify(id)}: not a single path segment`);
    await this.s3.send(new DeleteObjectCommand(this.object(id, MANIFEST)));
    const pages = paginateListObjectsV2({ client: this.s3 }, { Bucket: this.opts.bucket, Prefix: `${id}/` });
    for await (const page of pages) {
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) continue;
      const res = await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.opts.bucket, Delete: { Objects: keys, Quiet: true } }),
      );
      if (res.Errors?.length)
        throw new Error(`removing ${id}: ${res.Errors.map((e) => `${e.Key}: ${e.Code} ${e.Message}`).join("; ")}`);
    }
  }

  private object(id: string, name: string) {
    return { Bucket: this.opts.bucket, Key: `${id}/${name}` };
  }

  /** An object's body as a stream, or undefined when there is no such object. */
  private async get(id: string, name: string): Promise<Readable | undefined> {
    try {
      return (await this.s3.send(new GetObjectCommand(this.object(id, name)))).Body as Readable;
    } catch (err) {
      if (err instanceof NoSuchKey) return undefined;
      throw err;
    }
  }

  private async read(id: string, name: string): Promise<string | undefined> {
    const body = await this.get(id, name);
    if (!body) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }
}

function parseManifest(text: string): Manifest | undefined {
  try {
    return JSON.parse(text) as Manifest;
  } catch {
    return undefined;
  }
}
