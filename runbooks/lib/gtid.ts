/**
 * MariaDB GTID positions: parsing, comparing, and reading the last committed transaction out of a
 * stopped server's binary log (what a dead primary committed, for the failover's refusal rule).
 */
import fs from "node:fs";
import path from "node:path";
import { $ } from "zx";

/** A GTID position: per replication domain, the last sequence number (and the server that wrote it). */
export type GtidPos = Map<number, { server: number; seq: number }>;

/** Parse "0-1-57,1-2-3" (the format of @@gtid_slave_pos, Gtid_IO_Pos…). */
export function parseGtidPos(text: string): GtidPos {
  const pos: GtidPos = new Map();
  for (const part of text.split(",").map((s) => s.trim())) {
    if (!part) continue;
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(part);
    if (!m) throw new Error(`not a GTID: ${JSON.stringify(part)}`);
    pos.set(Number(m[1]), { server: Number(m[2]), seq: Number(m[3]) });
  }
  return pos;
}

/** Print a position back as "0-1-57". */
export function formatGtidPos(pos: GtidPos): string {
  return [...pos].map(([d, g]) => `${d}-${g.server}-${g.seq}`).join(",") || "(empty)";
}

/** The transactions `have` lacks of `want`: per domain, the range of sequence numbers. */
export function missingFrom(have: GtidPos, want: GtidPos): string[] {
  const out: string[] = [];
  for (const [domain, w] of want) {
    const h = have.get(domain)?.seq ?? 0;
    if (w.seq > h) out.push(h + 1 === w.seq ? `${domain}-${w.server}-${w.seq}` : `${domain}-*-${h + 1}…${w.seq}`);
  }
  return out;
}

/**
 * The last committed transaction per domain in `mariadb-binlog` text output: a DDL's GTID counts at
 * once, a transaction's only once its Xid or COMMIT follows (a torn tail, cut by a crash, is not
 * committed). Starts from the file's "Gtid list" (the position before its first event).
 */
export function lastCommittedInBinlogText(text: string): GtidPos {
  const tracker = new CommitTracker();
  for (const line of text.split("\n")) tracker.line(line);
  return tracker.pos;
}

/** Follows mariadb-binlog's output line by line (binlogs can be far larger than memory should hold). */
class CommitTracker {
  readonly pos: GtidPos = new Map();
  private open: { domain: number; server: number; seq: number } | null = null;

  line(line: string): void {
    const listed = /Gtid list \[([^\]]*)\]/.exec(line)?.[1];
    if (listed !== undefined) {
      for (const [d, g] of parseGtidPos(listed)) this.pos.set(d, g);
      return;
    }
    const gtid = /\bGTID (\d+)-(\d+)-(\d+)( trans| ddl)?/.exec(line);
    if (gtid) {
      const event = { domain: Number(gtid[1]), server: Number(gtid[2]), seq: Number(gtid[3]) };
      this.open = null;
      if (gtid[4] === " trans") this.open = event;
      else this.pos.set(event.domain, { server: event.server, seq: event.seq });
      return;
    }
    if (this.open && (/\bXid = \d+/.test(line) || /^COMMIT\b/.test(line))) {
      this.pos.set(this.open.domain, { server: this.open.server, seq: this.open.seq });
      this.open = null;
    }
  }
}

/**
 * What a stopped server's binary log committed last: the newest file named in `<datadir>/<base>.index`
 * read with mariadb-binlog. Index entries are absolute (the rendered cnf names log_bin by path) or
 * relative to the datadir; either way the file is looked up in `datadir`, where binlogs live.
 */
export async function lastCommittedInBinlog(datadir: string, base = "mariadb-bin"): Promise<GtidPos> {
  const index = fs
    .readFileSync(path.join(datadir, `${base}.index`), "utf8")
    .split("\n")
    .filter(Boolean);
  const newest = index.at(-1);
  if (newest === undefined) throw new Error(`${datadir}/${base}.index lists no binary log`);
  const last = path.join(datadir, path.basename(newest));
  // Read line by line as it streams: a binlog's dump can be far larger than memory, so zx stores
  // none of stdout (an array that drops what is pushed) and only stderr, for the error.
  const dropped = () => Object.assign([] as string[], { push: () => 0 });
  const dump = $({
    quiet: true,
    nothrow: true,
    store: { stdout: dropped(), stdall: dropped(), stderr: [] },
  })`mariadb-binlog --no-defaults ${last}`;
  const tracker = new CommitTracker();
  for await (const line of dump) tracker.line(line);
  const { exitCode, stderr } = await dump;
  if (exitCode !== 0) throw new Error(`mariadb-binlog ${last}: exit ${exitCode}: ${stderr.trim()}`);
  return tracker.pos;
}

// `node gtid.js DATADIR` prints what the stopped server of DATADIR committed last: mysql-failover runs
// it in a one-shot container from the app image where the data is a Docker volume it cannot see.
if (require.main === module) {
  lastCommittedInBinlog(process.argv[2] ?? ".").then(
    (pos) => process.stdout.write(`${formatGtidPos(pos)}\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
