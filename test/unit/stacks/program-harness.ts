// The stack program (stacks/index.ts) under the mocked engine, for program-<stack>.test.ts (one file per
// stack: a program runs once per module registry): it builds the expected resource graph (snapshot of
// type, name and parent), every child is named after and parented to its component, and no secret (the SSH
// key, the certificate's key, any generated password or TSIG key) is in any resource's plain inputs. The
// three stacks run the one program; only their config differs.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { recordResources, type RegisteredResource } from "../../helpers/pulumi-mocks";
import type { GeneratedCertificate } from "../../../components/certificate/generate";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
const SSH_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nSSHKEYSECRETxxxxxxxxxxxxxxxx\n-----END OPENSSH PRIVATE KEY-----";
const TLS_KEY = "-----BEGIN PRIVATE KEY-----\nTLSKEYSECRETxxxxxxxxxxxxxxxx\n-----END PRIVATE KEY-----";
const TLS_CERT = "-----BEGIN CERTIFICATE-----\nCERTxxxx\n-----END CERTIFICATE-----";
const FACTS = JSON.stringify({
  kernel: "Linux 6.1",
  os: "debian 12",
  cgroup: "v2",
  selinux: "unavailable",
  systemd: false,
});
const generated = (name: string) =>
  Buffer.from(`GENSECRET:${name}:`.padEnd(32, "x").slice(0, 32)).toString("base64");

/** The inputs with every secret-wrapped value cut out: what an engine would store and show in plain text. */
function plainText(value: unknown): string {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") {
      if ((v as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE) return "[secret]";
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return JSON.stringify(strip(value));
}

export interface Run {
  resources: RegisteredResource[];
  exports: Record<string, unknown>;
}

/** The self-signed certificate the mocked GeneratedCertificate returns: a real one, made at test time. */
let made: (GeneratedCertificate & { domain: string }) | undefined;

/** Installs the mocks for `stack` with its config, then runs stacks/index.ts once. */
export async function runProgram(
  stack: string,
  config: Record<string, string> = STACKS[stack]?.config ?? {},
  secretKeys: string[] = STACKS[stack]?.secretKeys ?? [],
): Promise<Run> {
  // the program reads platforms/<stack>.yaml from the project root (the engine sets this variable)
  process.env.PULUMI_NODEJS_ROOT_DIRECTORY = path.join(__dirname, "../../..");
  // for the stack's own domain: the brokers check that their certificate covers <host>.<domain>
  const file = path.join(__dirname, "../../../platforms", `${stack}.yaml`);
  const domain = /^domain: (\S+)$/m.exec(fs.readFileSync(file, "utf8"))?.[1] ?? "apps.unit.test";
  if (made?.domain !== domain) {
    const { generateSelfSignedCertificate } = await import("../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../components/certificate/resolve");
    made = {
      domain,
      ...(await generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain }))),
    };
  }
  const cert = made;
  // the provided certificate of stage and prod: the same real one (the bus clients check it as their CA)
  config = Object.fromEntries(
    Object.entries(config).map(([k, v]) => [
      k,
      v === TLS_CERT ? cert.certificate : v === TLS_KEY ? cert.privateKey : v,
    ]),
  );
  const resources = recordResources((r) => {
    if (r.name.endsWith("-facts")) return { stdout: FACTS, stderr: "" };
    if (r.type.endsWith("GeneratedCertificate")) {
      const { domain: _domain, ...outs } = cert;
      return outs;
    }
    if (r.type.endsWith("GeneratedSecret")) return { value: generated(r.name) };
    // an application as the broker makes it: on the one node of the dev topology
    if (r.type.endsWith(":BrokerApp")) {
      const fqdn = `${String(r.inputs.name)}-${String(r.inputs.domain)}.${domain}`;
      return {
        appId: "0123456789abcdef0123456789abcdef",
        fqdn,
        appUrl: `http://${fqdn}/`,
        gitUrl: `ssh://0123456789abcdef0123456789abcdef@local.${domain}:10022/~/git/${String(r.inputs.name)}.git/`,
      };
    }
    if (r.type.endsWith(":AppSource")) return { commit: "c0ffee".padEnd(40, "0") };
    return { stdout: "", stderr: "" };
  }, stack);
  pulumi.runtime.setAllConfig(config, secretKeys);
  const exports = (await import("../../../stacks/index")) as Record<string, unknown>;
  // let every output and registration settle
  const outputs = Object.values(exports).filter((v) =>
    pulumi.Output.isInstance(v),
  ) as pulumi.Output<unknown>[];
  await Promise.all(outputs.map((o) => new Promise((resolve) => o.apply(resolve))));
  // and every registration (dynamic providers are serialized asynchronously) before jest tears down
  for (let count = -1; count !== resources.length;) {
    count = resources.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { resources, exports };
}

const shortUrn = (urn: string) => (urn === "" ? "-" : urn.slice(urn.lastIndexOf("::") + 2));
const typeOfUrn = (urn: string) => urn.split("::")[2]?.split("$").pop() ?? "";

function graph(resources: readonly RegisteredResource[]): string[] {
  return resources.map((r) => `${r.type} ${r.name} < ${shortUrn(r.parent)}`).sort();
}

export const STACKS: Record<string, { config: Record<string, string>; secretKeys: string[] }> = {
  dev: { config: {}, secretKeys: [] },
  stage: {
    config: {
      "geartrain:sshPrivateKey": SSH_KEY,
      "geartrain:tlsCertificate": TLS_CERT,
      "geartrain:tlsPrivateKey": TLS_KEY,
    },
    secretKeys: ["geartrain:sshPrivateKey", "geartrain:tlsPrivateKey"],
  },
  prod: {
    config: {
      "geartrain:sshPrivateKey": SSH_KEY,
      "geartrain:tlsCertificate": TLS_CERT,
      "geartrain:tlsPrivateKey": TLS_KEY,
    },
    secretKeys: ["geartrain:sshPrivateKey", "geartrain:tlsPrivateKey"],
  },
};

/** The tests every stack's program passes; with `refusedWith`, the program must refuse to build instead. */
export function describeProgram(stack: string, refusedWith?: RegExp, more?: (run: () => Run) => void): void {
  if (refusedWith) {
    it(`the ${stack} program refuses to build, saying why`, async () => {
      await expect(runProgram(stack)).rejects.toThrow(refusedWith);
    }, 60_000);
    return;
  }
  describe(`the ${stack} program under the mocked engine`, () => {
    let run: Run;
    beforeAll(async () => {
      run = await runProgram(stack);
    }, 60_000);

    it("builds the expected resource graph", () => {
      expect(graph(run.resources)).toMatchSnapshot();
    });

    it("names every child after its component and parents it there", () => {
      const byUrn = new Map(run.resources.map((r) => [r.parent, r]));
      const problems: string[] = [];
      for (const r of run.resources) {
        if (r.type === "pulumi:pulumi:Stack") continue;
        const parent = shortUrn(r.parent);
        if (r.parent === "" || typeOfUrn(r.parent) === "pulumi:pulumi:Stack") {
          if (r.name !== "geartrain" && r.name !== "geartrain-apps")
            problems.push(`${r.name}: only the Platform and its PlatformApps hang from the stack`);
          continue;
        }
        // Host commands of a component are named after the component; a Host's own after the host
        if (!r.name.startsWith(`${parent}-`)) problems.push(`${r.name} is a child of ${parent}`);
      }
      expect(problems).toEqual([]);
      expect(byUrn.size).toBeGreaterThan(0);
    });

    it("puts no secret value into any plain input", () => {
      const secrets = [
        SSH_KEY,
        TLS_KEY,
        // (an EC key's last line can be its public point, which the certificate carries too)
        ...(made
          ? made.privateKey.split("\n").filter((l) => l.length > 40 && !made!.certificate.includes(l))
          : []),
        ...run.resources.filter((r) => r.type.endsWith("GeneratedSecret")).map((r) => generated(r.name)),
      ];
      const leaks: string[] = [];
      for (const r of run.resources) {
        const text = plainText(r.inputs);
        for (const s of secrets) if (text.includes(JSON.stringify(s).slice(1, -1))) leaks.push(`${r.name}`);
      }
      expect(leaks).toEqual([]);
      for (const s of run.resources.filter((r) => r.type.endsWith("GeneratedSecret")))
        expect(s.additionalSecretOutputs).toContain("value");
    });

    it("exports the broker URL, the admin credentials as a secret, the DNS server and the nodes", async () => {
      const { exports } = run;
      const value = <T>(o: unknown) => new Promise<T>((resolve) => (o as pulumi.Output<T>).apply(resolve));
      expect(Object.keys(exports).sort()).toEqual(
        [
          "admin",
          "apps",
          "brokerUrl",
          "brokerUrls",
          "certificate",
          "dnsServer",
          "domain",
          "nodes",
          "userData",
        ].sort(),
      );
      expect(await pulumi.isSecret(exports.admin as pulumi.Output<unknown>)).toBe(true);
      const admin = await value<{ login: string; password: string }>(exports.admin);
      expect(admin.login).toBe("admin");
      expect(admin.password).toBe(generated("geartrain-admin-password"));
      const url = await value<string>(exports.brokerUrl);
      const dns = await value<{ address: string; port: number; zone: string }>(exports.dnsServer);
      // (under jest's module registry the mocked engine hands arrays back as index-keyed objects)
      const nodes = Object.values(await value<{ name: string; district: string | null }[]>(exports.nodes));
      const userData = await value<Record<string, string>>(exports.userData);
      expect({ url, dns, nodes: nodes.map((n) => `${n.name}@${n.district}`) }).toMatchSnapshot();
      // the topology's applications, by DNS label (none: a plain {})
      const apps = pulumi.Output.isInstance(exports.apps) ? await value(exports.apps) : exports.apps;
      expect({ apps }).toMatchSnapshot();
      for (const text of Object.values(userData)) expect(text).toMatch(/^#cloud-config\n/);
      // the platform certificate is public: a plain output, and no private key in it
      expect(await pulumi.isSecret(exports.certificate as pulumi.Output<unknown>)).toBe(false);
      const pem = await value<string>(exports.certificate);
      expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      expect(pem).not.toMatch(/PRIVATE KEY/);
    });

    more?.(() => run);
  });
}
