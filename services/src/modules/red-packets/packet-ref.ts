import { randomBytes } from "node:crypto";

/** How clients name a packet: its id and its 128-bit token, so ids cannot be walked. */
export interface PacketRef {
  id: number;
  token: string;
}

const REF = /^([1-9][0-9]{0,14})\.([A-Za-z0-9_-]{22})$/;

/** A new packet token: 16 random bytes, base64url (22 characters). */
export const newPacketToken = (): string => randomBytes(16).toString("base64url");

/** The string clients see: "<id>.<token>". */
export const formatPacketRef = (ref: PacketRef): string => `${ref.id}.${ref.token}`;

/** Parse "<id>.<token>"; null for anything else. */
export function parsePacketRef(raw: string): PacketRef | null {
  const [, id, token] = REF.exec(raw) ?? [];
  return id !== undefined && token !== undefined ? { id: Number(id), token } : null;
}
