import type { ResultSetHeader, RowDataPacket } from "mysql2";
import { first } from "../../platform/checked";
import type { Database, Tx } from "../../platform/db";

/** Read-your-writes scope of one packet: every grab and refund of it records its write here. */
export const packetScope = (packetId: number) => `rp:${packetId}`;

/** A red_packets row as the feature needs it. */
export interface PacketRow {
  id: number;
  creatorId: number;
  token: string;
  amountCents: number;
  count: number;
  remainingCount: number;
  remainingCents: number;
  expiresAt: Date;
  refunded: boolean;
}

const PACKET_COLUMNS = `id, creator_id AS creatorId, token, amount_cents AS amountCents, count, remaining_count AS remainingCount,
  remaining_cents AS remainingCents, expires_at AS expiresAt, refunded_at IS NOT NULL AS refunded`;
const toPacket = (r: Record<string, unknown>): PacketRow => ({
  id: Number(r.id),
  creatorId: Number(r.creatorId),
  token: String(r.token),
  amountCents: Number(r.amountCents),
  count: Number(r.count),
  remainingCount: Number(r.remainingCount),
  remainingCents: Number(r.remainingCents),
  expiresAt: r.expiresAt as Date,
  refunded: Number(r.refunded) === 1,
});

/** A new packet as its creator asked for it, with its token and the request's idempotency key and hash. */
export interface NewPacket {
  creatorId: number;
  token: string;
  idempotencyKey: string;
  requestHash: string;
  amountCents: number;
  count: number;
  expiresInSeconds: number;
}

/**
 * Insert a packet expiring `expiresInSeconds` from now by the database's clock; returns its id and
 * expiry (ms). ER_DUP_ENTRY: the creator already used this idempotency key (a concurrent copy waits
 * on the key's lock until the first commits or rolls back).
 */
export async function insertPacket(tx: Tx, p: NewPacket): Promise<{ id: number; expiresAtMs: number }> {
  const [result] = await tx.execute<ResultSetHeader>(
    `INSERT INTO red_packets (creator_id, token, idempotency_key, request_hash, amount_cents, count, remaining_count,
       remaining_cents, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NOW(3) + INTERVAL ? SECOND)`,
    [
      p.creatorId,
      p.token,
      p.idempotencyKey,
      p.requestHash,
      p.amountCents,
      p.count,
      p.count,
      p.amountCents,
      p.expiresInSeconds,
    ],
  );
  // Read back in the database's terms, so Redis judges expiry by the same instant the refund uses.
  const [rows] = await tx.execute<RowDataPacket[]>(
    "SELECT ROUND(UNIX_TIMESTAMP(expires_at) * 1000) AS ms FROM red_packets WHERE id = ?",
    [result.insertId],
  );
  return { id: result.insertId, expiresAtMs: Number(first(rows, `packet ${result.insertId}'s expiry`).ms) };
}

/** The packet a creator made with an idempotency key, on the primary (a replay must see it at once). */
export async function packetByKey(
  db: Database,
  creatorId: number,
  idempotencyKey: string,
): Promise<(PacketRow & { requestHash: string; expiresAtMs: number }) | null> {
  const rows = await db.readPrimary<Record<string, unknown>>(
    `SELECT ${PACKET_COLUMNS}, request_hash AS requestHash, ROUND(UNIX_TIMESTAMP(expires_at) * 1000) AS expiresAtMs
       FROM red_packets WHERE creator_id = ? AND idempotency_key = ?`,
    [creatorId, idempotencyKey],
  );
  const r = rows[0];
  return r ? { ...toPacket(r), requestHash: String(r.requestHash), expiresAtMs: Number(r.expiresAtMs) } : null;
}

/** One packet, from a replica that has applied the packet's last write, else the primary. */
export async function findPacket(db: Database, packetId: number): Promise<PacketRow | null> {
  const rows = await db.read<Record<string, unknown>>(
    `SELECT ${PACKET_COLUMNS} FROM red_packets WHERE id = ?`,
    [packetId],
    packetScope(packetId),
  );
  return rows[0] ? toPacket(rows[0]) : null;
}

/** The persisted grabs of a packet, in the order they were committed. */
export async function listGrabs(
  db: Database,
  packetId: number,
): Promise<Array<{ userId: number; amountCents: number }>> {
  const rows = await db.read<{ userId: number; amountCents: number }>(
    "SELECT user_id AS userId, amount_cents AS amountCents FROM red_packet_grabs WHERE packet_id = ? ORDER BY id",
    [packetId],
    packetScope(packetId),
  );
  return rows.map((r) => ({ userId: Number(r.userId), amountCents: Number(r.amountCents) }));
}

/**
 * Take one part off a packet — only while it has parts left and is not refunded, so MySQL on its
 * own never lets grabs plus refund exceed the amount. False when the guard refused.
 */
export async function debitPacket(tx: Tx, packetId: number, cents: number): Promise<boolean> {
  const [result] = await tx.execute<ResultSetHeader>(
    `UPDATE red_packets SET remaining_count = remaining_count - 1, remaining_cents = remaining_cents - ?
     WHERE id = ? AND remaining_count > 0 AND remaining_cents >= ? AND refunded_at IS NULL`,
    [cents, packetId, cents],
  );
  return result.affectedRows === 1;
}

/**
 * Take `count` parts worth `cents` in all off a packet at once; false (nothing taken) when it has
 * fewer parts or cents left, or was refunded. Locks the packet's row, like debitPacket.
 */
export async function debitPacketBy(tx: Tx, packetId: number, count: number, cents: number): Promise<boolean> {
  const [result] = await tx.execute<ResultSetHeader>(
    `UPDATE red_packets SET remaining_count = remaining_count - ?, remaining_cents = remaining_cents - ?
     WHERE id = ? AND remaining_count >= ? AND remaining_cents >= ? AND refunded_at IS NULL`,
    [count, cents, packetId, count, cents],
  );
  return result.affectedRows === 1;
}

/** Record several grabs of one packet in one statement. Throws ER_DUP_ENTRY when any is already recorded. */
export async function insertGrabs(tx: Tx, packetId: number, grabs: Array<{ userId: number; cents: number }>) {
  await tx.query("INSERT INTO red_packet_grabs (packet_id, user_id, amount_cents) VALUES ?", [
    grabs.map((g) => [packetId, g.userId, g.cents]),
  ]);
}

/** Which of `userIds` have their grab of a packet recorded. */
export async function grabbersAmong(tx: Tx, packetId: number, userIds: number[]): Promise<Set<number>> {
  const [rows] = await tx.query<RowDataPacket[]>(
    "SELECT user_id AS userId FROM red_packet_grabs WHERE packet_id = ? AND user_id IN (?)",
    [packetId, userIds],
  );
  return new Set(rows.map((r) => Number(r.userId)));
}

/** Record a grab. Throws ER_DUP_ENTRY when this user's grab of this packet is already recorded. */
export async function insertGrab(tx: Tx, packetId: number, userId: number, cents: number): Promise<void> {
  await tx.execute("INSERT INTO red_packet_grabs (packet_id, user_id, amount_cents) VALUES (?, ?, ?)", [
    packetId,
    userId,
    cents,
  ]);
}

/** True when this user's grab of this packet is recorded. */
export async function grabExists(tx: Tx, packetId: number, userId: number): Promise<boolean> {
  const [rows] = await tx.execute<RowDataPacket[]>(
    "SELECT 1 FROM red_packet_grabs WHERE packet_id = ? AND user_id = ?",
    [packetId, userId],
  );
  return rows.length > 0;
}

/** Users whose grab of a packet is recorded (read on the primary: it decides what still needs persisting). */
export async function persistedGrabbers(db: Database, packetId: number): Promise<Set<number>> {
  const rows = await db.readPrimary<{ userId: number }>(
    "SELECT user_id AS userId FROM red_packet_grabs WHERE packet_id = ?",
    [packetId],
  );
  return new Set(rows.map((r) => Number(r.userId)));
}

/** Mark an expired packet refunded; false when it is not expired or another run already did (the exactly-once guard). */
export async function markRefunded(tx: Tx, packetId: number): Promise<boolean> {
  const [result] = await tx.execute<ResultSetHeader>(
    "UPDATE red_packets SET refunded_at = NOW(3) WHERE id = ? AND refunded_at IS NULL AND expires_at <= NOW(3)",
    [packetId],
  );
  return result.affectedRows === 1;
}

/** Amount, creator, remaining cents and the sum of the persisted grabs (inside the refund's transaction). */
export async function refundFacts(tx: Tx, packetId: number) {
  const [rows] = await tx.execute<RowDataPacket[]>(
    `SELECT p.creator_id AS creatorId, p.amount_cents AS amountCents, p.remaining_cents AS remainingCents,
            (SELECT COALESCE(SUM(g.amount_cents), 0) FROM red_packet_grabs g WHERE g.packet_id = p.id) AS grabbedCents
       FROM red_packets p WHERE p.id = ?`,
    [packetId],
  );
  const r = first(rows, `packet ${packetId}'s refund facts`);
  return {
    creatorId: Number(r.creatorId),
    amountCents: Number(r.amountCents),
    remainingCents: Number(r.remainingCents),
    grabbedCents: Number(r.grabbedCents),
  };
}

/** Ids of expired packets not yet refunded, oldest expiry first. */
export async function expiredUnrefunded(db: Database, limit = 100): Promise<number[]> {
  const rows = await db.readPrimary<{ id: number }>(
    `SELECT id FROM red_packets WHERE refunded_at IS NULL AND expires_at <= NOW(3) ORDER BY expires_at LIMIT ${Number(limit)}`,
  );
  return rows.map((r) => Number(r.id));
}

/** Seconds since the oldest expired, unrefunded packet expired (0 when none): how late the refunds are. */
export async function oldestRefundOverdueSeconds(db: Database): Promise<number> {
  const rows = await db.readPrimary<{ s: number | null }>(
    "SELECT TIMESTAMPDIFF(MICROSECOND, MIN(expires_at), NOW(3)) / 1e6 AS s FROM red_packets WHERE refunded_at IS NULL AND expires_at <= NOW(3)",
  );
  return Math.max(0, Number(rows[0]?.s ?? 0));
}
