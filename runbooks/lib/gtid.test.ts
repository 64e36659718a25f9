import { formatGtidPos, lastCommittedInBinlogText, missingFrom, parseGtidPos } from "./gtid";

// Lines as mariadb-binlog 10.11 prints them (whitespace and checksums as seen on the test stack).
const binlog = `# at 256
#261129  4:38:30 server id 1  end_log_pos 299 CRC32 0x1  Gtid list [0-1-29]
#261129  4:38:32 server id 1  end_log_pos 10595 CRC32 0xe1e2ec9e 	GTID 0-1-30 trans
#261129  4:38:32 server id 1  end_log_pos 10996 CRC32 0x8448cc2c 	Xid = 47
COMMIT/*!*/;
#261129  4:38:33 server id 1  end_log_pos 11038 CRC32 0x439ae622 	GTID 0-1-31 ddl
#261129  4:38:33 server id 1  end_log_pos 11100 CRC32 0x439ae623 	GTID 0-1-32 trans
#261129  4:38:33 server id 1  end_log_pos 11811 CRC32 0x0c7617be 	Table_map: \`floodgate\`.\`orders\` mapped to number 70
`;

describe("GTID positions", () => {
  it("parse and print", () => {
    expect(formatGtidPos(parseGtidPos("0-1-57, 1-2-3"))).toBe("0-1-57,1-2-3");
    expect(formatGtidPos(parseGtidPos(""))).toBe("(empty)");
    expect(() => parseGtidPos("0-1")).toThrow(/not a GTID: "0-1"/);
  });

  it("a transaction counts once its Xid follows; a torn tail does not; a DDL counts at once", () => {
    expect(formatGtidPos(lastCommittedInBinlogText(binlog))).toBe("0-1-31");
    expect(formatGtidPos(lastCommittedInBinlogText(binlog.split("\n").slice(0, 3).join("\n")))).toBe("0-1-29");
  });

  it("names what one position lacks of another", () => {
    expect(missingFrom(parseGtidPos("0-1-31"), parseGtidPos("0-1-31"))).toEqual([]);
    expect(missingFrom(parseGtidPos("0-1-40"), parseGtidPos("0-1-31"))).toEqual([]);
    expect(missingFrom(parseGtidPos("0-1-30"), parseGtidPos("0-1-31"))).toEqual(["0-1-31"]);
    expect(missingFrom(parseGtidPos("0-1-20"), parseGtidPos("0-1-31,1-3-2"))).toEqual(["0-*-21…31", "1-*-1…2"]);
  });
});
