import type { BackupConfig } from "./config";
import { S3BackupStore } from "./s3-store";
import { FsBackupStore, type BackupStore } from "./store";

/** The store the configuration chose: a directory, or the backups bucket over S3. */
export function openBackupStore(config: Pick<BackupConfig, "store" | "BACKUP_WORK_DIR">): BackupStore {
  const target = config.store;
  if (target.type === "directory") return new FsBackupStore(target.dir);
  return new S3BackupStore({ ...target, workDir: config.BACKUP_WORK_DIR });
}
