import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FsStaticBucket } from "./static-bucket";

describe("FsStaticBucket", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fg-bucket-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes an object under its name and replaces it, leaving no temporary file", async () => {
    const bucket = new FsStaticBucket(path.join(dir, "static"));

    await bucket.put("manifest.json", '{"v":1}', "application/json");
    await bucket.put("manifest.json", '{"v":2}', "application/json");

    expect(fs.readFileSync(path.join(dir, "static", "manifest.json"), "utf8")).toBe('{"v":2}');
    expect(fs.readdirSync(path.join(dir, "static"))).toEqual(["manifest.json"]);
  });

  it.each(["../escape.json", "a/b.json", ".hidden", ""])("refuses the object name %j", async (name) => {
    await expect(new FsStaticBucket(dir).put(name, "x", "text/plain")).rejects.toThrow(/not a flat object name/);
  });
});
