import { parsePrinted } from "./failover-data";
import { formatGtidPos } from "./gtid";

describe("parsePrinted (the gtid CLI's answer, from a container's stdout or a pod's log)", () => {
  it("reads the position even when stderr lines follow it, as in a pod's log", () => {
    expect(formatGtidPos(parsePrinted("0-2-41,1-1-7\n(node:1) Warning: something\n"))).toBe("0-2-41,1-1-7");
  });

  it("reads an empty binary log as no position", () => {
    expect(parsePrinted("(empty)\n").size).toBe(0);
  });

  it("says what it got when no line is a position", () => {
    expect(() => parsePrinted("mariadb-binlog: cannot open\n")).toThrow(
      /no GTID position in: mariadb-binlog: cannot open/,
    );
  });
});
