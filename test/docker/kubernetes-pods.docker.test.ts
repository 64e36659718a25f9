import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { IMAGE_TARGETS, imageKey } from "../../infra/config";
import { bashHttpProbe } from "../../infra/targets/docker/container-spec";
import { ownedBy, removeLabelled } from "../support/engine-provider";
import { deployRecorded, type Deployed } from "../support/kubernetes-program";
import { recordResources, unwrapSecrets } from "../support/pulumi-mocks";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import { localImage } from "../../scripts/images/components";
import { makeImages } from "../../scripts/images/images";

// The Kubernetes program's server pods, as it declares them, run on the real Docker Engine from the
// Debian-built images: each container with its command and arguments, its environment (Secret and
// ConfigMap values resolved), its ConfigMap and Secret volumes as read-only files, its emptyDirs as
// fresh world-writable folders, its claims as fresh volumes, and its security context — user and group by number, the
// root filesystem read-only, every capability dropped, no privilege escalation, the runtime's
// default seccomp profile. Each must pass its own readiness probe. This proves what the policy
// tests cannot: that "restricted" and the read-only roots leave the servers working.
// What it cannot prove: the kubelet itself (fsGroup's chown of a new volume — Docker copies the
// image's folder, owner included, into a new volume instead), cluster DNS (every cluster name
// resolves to the container itself here), and peers (each server runs alone).

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const repoRoot = path.resolve(__dirname, "..", "..");
const engine = new Docker();
const OWNER = "kubernetes-pods";
const TAG = "int-test";
// The program's images are the local ones this test builds.
const RAW = {
  ...Object.fromEntries(
    Object.entries(IMAGE_TARGETS).map(([key, target]) => [imageKey(key as never), localImage(target, TAG)]),
  ),
  adminPort: 9090,
  adminSourceRanges: "203.0.113.0/24",
};

/** The server pods run (by their name label), and which of their containers, in order. */
const RUN: Array<[string, string[]]> = [
  ["mysql-primary", ["mariadb"]],
  ["redis", ["redis"]],
  ["nginx", ["nginx", "exporter"]],
  ["prometheus", ["prometheus"]],
  ["alertmanager", ["alertmanager"]],
  ["admin-gateway", ["nginx"]],
  ["mysqld-exporter-primary", ["exporter"]],
  ["redis-exporter", ["exporter"]],
  // The services image: alone, the API is alive (its liveness probe) though not ready (no store answers).
  ["api", ["api"]],
];

let d: Deployed;
let tmp: string;

/** Every pod template the program declares, with its workload's kind, name and claim templates. */
function podTemplates(): Array<{ workload: string; labels: Record<string, string>; spec: Obj; claims: Obj[] }> {
  return d.resources
    .filter((r) => /:(StatefulSet|Deployment|DaemonSet)$/.test(r.type))
    .map((r) => {
      const o = r.inputs as Obj;
      return {
        workload: o.metadata.name,
        labels: o.spec.template.metadata.labels,
        spec: o.spec.template.spec,
        claims: o.spec.volumeClaimTemplates ?? [],
      };
    });
}

/** A recorded Secret's or ConfigMap's data by name (Secrets' values unwrapped). */
function dataOf(kind: "Secret" | "ConfigMap", name: string): Record<string, string> {
  const r = d.resources.find((x) => x.type.endsWith(`:${kind}`) && (x.inputs as Obj).metadata.name === name);
  if (!r) throw new Error(`no ${kind} ${name}`);
  const o = unwrapSecrets(r.inputs) as Obj;
  return kind === "Secret" ? o.stringData : o.data;
}

/** One key of a Secret's or ConfigMap's data: as for the kubelet, a missing key fails the container. */
function dataValue(kind: "Secret" | "ConfigMap", name: string, key: string): string {
  const value = dataOf(kind, name)[key];
  if (value === undefined) throw new Error(`no key ${key} in ${kind} ${name}`);
  return value;
}

/** `text` with each $(NAME) of a variable in `values` replaced, and $$ kept as $, as the kubelet does. */
function expand(text: string, values: Map<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name?: string) =>
    m === "$$" ? "$" : values.has(name!) ? values.get(name!)! : m,
  );
}

const expandAll = (args: string[], values: Map<string, string>) => args.map((a) => expand(a, values));

/** The cluster names the pod's files and environment mention: each resolves to the container itself. */
function clusterNames(text: string): string[] {
  return [...new Set(text.match(/[a-z0-9-]+(\.[a-z0-9-]+)*\.svc\.cluster\.local/g) ?? [])];
}

/** The Docker container a pod's container would be, the files it mounts written under `dir`. */
function containerSpec(
  pod: ReturnType<typeof podTemplates>[number],
  c: Obj,
  dir: string,
): Docker.ContainerCreateOptions {
  // Values in order, each able to name the ones before it with $(NAME), as the kubelet expands them.
  const values = new Map<string, string>();
  for (const e of (c.env as Obj[] | undefined) ?? []) {
    const from = e.valueFrom;
    let value: string;
    if (!from) value = expand(String(e.value ?? ""), values);
    else if (from.secretKeyRef) value = dataValue("Secret", from.secretKeyRef.name, from.secretKeyRef.key);
    else if (from.configMapKeyRef) value = dataValue("ConfigMap", from.configMapKeyRef.name, from.configMapKeyRef.key);
    else if (from.fieldRef?.fieldPath === "metadata.name") value = `${pod.workload}-0`;
    else throw new Error(`${e.name}: an environment source this test cannot resolve`);
    values.set(e.name, value);
  }
  const env = [...values].map(([k, v]) => `${k}=${v}`);
  const binds: string[] = [];
  const volumes: Obj[] = pod.spec.volumes ?? [];
  let files = env.join("\n");
  for (const m of (c.volumeMounts as Obj[] | undefined) ?? []) {
    if (m.subPath) throw new Error(`${m.name}: subPath mounts are not handled here`);
    const v = volumes.find((x) => x.name === m.name);
    const claim = pod.claims.find((x) => x.metadata.name === m.name);
    if (claim) {
      binds.push(`${OWNER}-${pod.workload}-${m.name}:${m.mountPath}`);
    } else if (v?.emptyDir) {
      // A fresh, world-writable folder as the kubelet makes one (a tmpfs over a folder the image has
      // would carry that folder's owner and mode: Docker copies them up).
      const host = path.join(dir, `empty-${m.name}`);
      fs.mkdirSync(host, { recursive: true });
      fs.chmodSync(host, 0o777);
      binds.push(`${host}:${m.mountPath}`);
    } else if (v?.configMap || v?.secret) {
      const data = v.configMap ? dataOf("ConfigMap", v.configMap.name) : dataOf("Secret", v.secret.secretName);
      const items: Obj[] = (v.configMap ?? v.secret).items ?? Object.keys(data).map((key) => ({ key, path: key }));
      const host = path.join(dir, m.name);
      fs.mkdirSync(host, { recursive: true, mode: 0o755 });
      for (const item of items) {
        const value = data[item.key];
        if (value === undefined)
          throw new Error(`${m.name}: no key ${item.key} in its ${v.configMap ? "ConfigMap" : "Secret"}`);
        fs.writeFileSync(path.join(host, item.path), value, { mode: 0o644 });
        files += `\n${value}`;
      }
      binds.push(`${host}:${m.mountPath}:ro`);
    } else {
      throw new Error(`${m.name}: a volume this test cannot make`);
    }
  }
  const sc: Obj = { ...pod.spec.securityContext, ...c.securityContext };
  const command = [...((c.command as string[] | undefined) ?? []), ...((c.args as string[] | undefined) ?? [])].join(
    " ",
  );
  return {
    Image: c.image,
    ...(c.command
      ? { Entrypoint: expandAll(c.command, values), Cmd: expandAll(c.args ?? [], values) }
      : c.args
        ? { Cmd: expandAll(c.args, values) }
        : {}),
    Env: env,
    User: sc.runAsUser === undefined ? undefined : `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`,
    Labels: ownedBy(OWNER),
    HostConfig: {
      Binds: binds,
      ReadonlyRootfs: sc.readOnlyRootFilesystem === true,
      CapDrop: sc.capabilities?.drop ?? [],
      SecurityOpt: sc.allowPrivilegeEscalation === false ? ["no-new-privileges"] : [],
      GroupAdd: sc.fsGroup === undefined ? [] : [String(sc.fsGroup)],
      ExtraHosts: clusterNames(`${files}\n${command}`).map((n) => `${n}:127.0.0.1`),
    },
  };
}

/** The container's readiness probe as a command run inside it. */
function probeCommand(c: Obj): string[] {
  // The app image's processes are not ready without their stores, none of which runs here.
  const p = c.image.includes("/services:") ? c.livenessProbe : c.readinessProbe;
  if (p?.exec) return p.exec.command;
  if (p?.tcpSocket) return ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${p.tcpSocket.port}`];
  if (p?.httpGet) return ["bash", "-c", bashHttpProbe(p.httpGet.port, p.httpGet.path)];
  throw new Error(`${c.name} has no readiness probe`);
}

async function execCode(container: Docker.Container, cmd: string[]): Promise<number> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  await new Promise<void>((resolve) => {
    stream.on("end", () => resolve());
    stream.resume();
  });
  return (await exec.inspect()).ExitCode ?? -1;
}

beforeAll(async () => {
  await removeLabelled(engine, OWNER);
  const log = (m: string) => process.stdout.write(`  [images] ${m}\n`);
  const targets = [
    "mariadb",
    "redis",
    "nginx",
    "prometheus",
    "alertmanager",
    "mysqld-exporter",
    "redis-exporter",
    "nginx-exporter",
    "services",
  ];
  await makeImages({ repoRoot, base: DEFAULT_BASE_IMAGE, tag: TAG, only: targets, log });
  await recordResources("kubernetes");
  d = await deployRecorded(RAW);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "floodgate-k8s-pods-"));
  fs.chmodSync(tmp, 0o755);
}, 900_000);

afterAll(async () => {
  await removeLabelled(engine, OWNER);
  for (const v of (await engine.listVolumes()).Volumes ?? []) {
    if (v.Name.startsWith(`${OWNER}-`)) await engine.getVolume(v.Name).remove({ force: true });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Waits until `c`'s readiness probe passes in `container` (false if it stops or 90 s pass). */
async function turnsReady(container: Docker.Container, c: Obj): Promise<boolean> {
  const probe = probeCommand(c);
  for (let i = 0; i < 90; i++) {
    if (!(await container.inspect()).State.Running) return false;
    if ((await execCode(container, probe)) === 0) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

describe("the Kubernetes program's server pods, on the real engine", () => {
  it.each(RUN)(
    "%s (containers %j) starts and turns ready as declared: restricted, read-only roots",
    async (label, names) => {
      const pod = podTemplates().find((p) => p.labels["app.kubernetes.io/name"] === label);
      if (!pod) throw new Error(`the program declares no pod named ${label}`);
      const started: Docker.Container[] = [];
      const outcomes: Obj[] = [];
      try {
        for (const name of names) {
          const c = (pod.spec.containers as Obj[]).find((x) => x.name === name);
          if (!c) throw new Error(`${label} has no container ${name}`);
          // What is claimed is what is run: restricted, and a read-only root.
          expect(c.securityContext).toMatchObject({
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
            readOnlyRootFilesystem: true,
          });
          const spec = containerSpec(pod, c, path.join(tmp, `${label}-${name}`));
          // A pod's containers share one network namespace: the first one's.
          const [namespaceHolder] = started;
          if (namespaceHolder) {
            spec.HostConfig = {
              ...spec.HostConfig,
              NetworkMode: `container:${namespaceHolder.id}`,
              ExtraHosts: undefined,
            };
          }
          const container = await engine.createContainer(spec);
          started.push(container);
          await container.start();
          const ready = await turnsReady(container, c);
          const running = (await container.inspect()).State.Running;
          const logs = ready ? "" : (await container.logs({ stdout: true, stderr: true, tail: 60 })).toString("utf8");
          outcomes.push({ name, ready, running, logs });
        }
      } finally {
        for (const c of started.reverse()) await c.remove({ force: true, v: true });
      }
      expect(outcomes).toEqual(names.map((name) => ({ name, ready: true, running: true, logs: "" })));
    },
  );
});
