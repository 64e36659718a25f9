import { renderS3Identities } from "./seaweedfs";

const KEYS = { accessKey: "the-access-key", secretKey: "the-secret-key" };

describe("renderS3Identities", () => {
  it("gives the deployment's keys read, list, write and tagging on every bucket, and no admin", () => {
    expect(JSON.parse(renderS3Identities(KEYS))).toEqual({
      identities: [
        {
          name: "floodgate",
          credentials: [{ accessKey: "the-access-key", secretKey: "the-secret-key" }],
          actions: ["Read", "List", "Write", "Tagging"],
        },
      ],
    });
  });

  it("adds admin on the named buckets only, which SeaweedFS asks for to create them over S3", () => {
    const { identities } = JSON.parse(renderS3Identities(KEYS, ["fg-static", "fg-backups"]));
    expect(identities[0].actions).toEqual(["Read", "List", "Write", "Tagging", "Admin:fg-static", "Admin:fg-backups"]);
    expect(identities[0].actions).not.toContain("Admin");
  });

  it("keeps a key's characters as they are (JSON-escaped, never shell-quoted)", () => {
    const secretKey = 'a"b\\c$d`e';
    expect(JSON.parse(renderS3Identities({ ...KEYS, secretKey })).identities[0].credentials[0].secretKey).toBe(
      secretKey,
    );
  });
});
