import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { localAddresses, parseTopology } from "../topology";
import { parseStackFile, readStackFile, StackFileError, type StackFileInput } from "./stack-file";

const topology = parseTopology({});
const valid = (over: Partial<StackFileInput> = {}): StackFileInput => ({
  target: "docker",
  topology,
  addresses: localAddresses(topology),
  mysqlAdmin: { user: "root", password: "pw" },
  processes: [{ name: "mysql-primary" }, { name: "redis-1" }],
  docker: { socket: "/var/run/docker.sock" },
  ...over,
});

describe("parseStackFile", () => {
  it("accepts a Docker stack file and validates its topology like any other", () => {
    const f = parseStackFile(JSON.parse(JSON.stringify(valid())));
    expect(f.target).toBe("docker");
    expect(f.topology.mysql.primaryPort).toBe(topology.mysql.primaryPort);
  });

  it.each<[string, unknown, RegExp]>([
    ["no docker socket", { ...valid(), docker: undefined }, /docker: required when target is docker/],
    [
      "a k8s process without its StatefulSet",
      { ...valid({ target: "k8s", kubernetes: { namespace: "f" } }), docker: undefined },
      /processes\.0: mysql-primary: statefulSet and ordinal are required/,
    ],
    ["a process twice", valid({ processes: [{ name: "a" }, { name: "a" }] }), /processes\.1\.name: a is listed twice/],
    ["an unknown target", { ...valid(), target: "swarm" }, /target: Invalid option/],
    [
      "a bad address",
      { ...valid(), addresses: { ...valid().addresses, nginx: { host: "", port: 0 } } },
      /addresses\.nginx\.host/,
    ],
    [
      "a bad topology",
      { ...valid(), topology: { mysql: { replicas: -1 } } },
      /topology: invalid topology:\n.*mysql\.replicas = -1/s,
    ],
    ["no admin password", { ...valid(), mysqlAdmin: { user: "root" } }, /mysqlAdmin\.password/],
  ])("refuses %s, naming the field", (_, input, message) => {
    expect(() => parseStackFile(input, "f.json")).toThrow(StackFileError);
    expect(() => parseStackFile(input, "f.json")).toThrow(message);
  });
});

describe("readStackFile", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-"));

  it("says where the file should come from when it is missing", () => {
    expect(() => readStackFile(path.join(dir, "none.json"))).toThrow(
      /none\.json: no such file \(run the runbook inside the stack's runbooks container/,
    );
  });

  it("names the file when it is not JSON", () => {
    fs.writeFileSync(path.join(dir, "bad.json"), "{");
    expect(() => readStackFile(path.join(dir, "bad.json"))).toThrow(/bad\.json: not JSON/);
  });
});
