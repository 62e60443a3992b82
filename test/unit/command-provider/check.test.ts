import { utils } from "ssh2";
import { checkResource, checkRunArgs } from "../../../plugins/command/check";
import {
  assetArchive,
  fileArchive,
  fileAsset,
  remoteAsset,
  secret,
  stringAsset,
  unknownValue,
} from "./helpers";

const LOCAL = "command:local:Command";
const REMOTE = "command:remote:Command";
const COPY = "command:remote:CopyToRemote";

const key = utils.generateKeyPairSync("ed25519");
const encKey = utils.generateKeyPairSync("ed25519", { passphrase: "pw", cipher: "aes256-ctr", rounds: 4 });
const hostKey = utils.generateKeyPairSync("ed25519").public;

const conn = (extra: Record<string, unknown> = {}) => ({
  host: "10.0.0.5",
  privateKey: key.private,
  ...extra,
});

describe("check: command:local:Command", () => {
  it("accepts every documented input", () => {
    expect(
      checkResource(LOCAL, {
        create: "a",
        update: "b",
        delete: "c",
        dir: "/tmp",
        environment: { A: "1", "weird.name": "x" },
        interpreter: ["/bin/bash", "-c"],
        stdin: "in",
        logging: "stderr",
        addPreviousOutputInEnv: false,
        triggers: ["x", 1, { a: [true] }, stringAsset("t")],
      }),
    ).toEqual([]);
    expect(checkResource(LOCAL, {})).toEqual([]);
  });

  it("names each wrong type", () => {
    expect(
      checkResource(LOCAL, {
        create: 5,
        environment: { A: 1 },
        interpreter: [],
        logging: "verbose",
        addPreviousOutputInEnv: "yes",
        triggers: "x",
      }),
    ).toEqual([
      { property: "create", reason: "create must be a string, not number" },
      { property: "environment.A", reason: "environment.A must be a string, not number" },
      { property: "interpreter", reason: "interpreter must have at least 1 element(s)" },
      { property: "logging", reason: "logging must be one of stdout, stderr, stdoutAndStderr, none" },
      { property: "addPreviousOutputInEnv", reason: "addPreviousOutputInEnv must be a boolean, not string" },
      { property: "triggers", reason: "triggers must be a list, not string" },
    ]);
  });

  it("accepts archivePaths/assetPaths globs and rejects ones that do not compile", () => {
    expect(
      checkResource(LOCAL, { create: "x", archivePaths: ["**/*.txt", "!a?"], assetPaths: ["{a,b}"] }),
    ).toEqual([]);
    expect(checkResource(LOCAL, { create: "x", assetPaths: ["ok", "[oops"] })).toEqual([
      { property: "assetPaths[1]", reason: 'assetPaths[1]: glob "[oops" has an unclosed [' },
    ]);
  });

  it("rejects unknown properties", () => {
    expect(checkResource(LOCAL, { create: "x", comand: "y" })).toEqual([
      { property: "comand", reason: "unknown property comand" },
    ]);
  });

  it("skips unknown values and validates secrets by their plain value", () => {
    expect(
      checkResource(LOCAL, { create: unknownValue, environment: { A: unknownValue }, stdin: secret("x") }),
    ).toEqual([]);
    expect(checkResource(LOCAL, { stdin: secret(42) })).toEqual([
      { property: "stdin", reason: "stdin must be a string, not number" },
    ]);
  });
});

describe("check: command:remote:Command", () => {
  it("accepts a full connection, secret or not", () => {
    const c = conn({
      port: 2222,
      user: "deploy",
      hostKey,
      dialErrorLimit: -1,
      perDialTimeout: 0,
      password: "pw",
    });
    expect(checkResource(REMOTE, { connection: c, create: "x", environment: { PATH: "/bin" } })).toEqual([]);
    expect(checkResource(REMOTE, { connection: secret(c), create: "x" })).toEqual([]);
  });

  it("requires the connection and its host", () => {
    expect(checkResource(REMOTE, { create: "x" })).toEqual([
      { property: "connection", reason: "missing required property connection" },
    ]);
    expect(checkResource(REMOTE, { connection: { user: "root" } })).toEqual([
      { property: "connection.host", reason: "missing required property connection.host" },
    ]);
  });

  it("checks ports, limits and timeouts", () => {
    expect(
      checkResource(REMOTE, { connection: conn({ port: 70000, dialErrorLimit: -2, perDialTimeout: 1.5 }) }),
    ).toEqual([
      { property: "connection.port", reason: "connection.port must be between 1 and 65535, not 70000" },
      {
        property: "connection.dialErrorLimit",
        reason: "connection.dialErrorLimit must be at least -1, not -2",
      },
      {
        property: "connection.perDialTimeout",
        reason: "connection.perDialTimeout must be a whole number, not 1.5",
      },
    ]);
  });

  it("checks the pinned host key", () => {
    const [f] = checkResource(REMOTE, { connection: conn({ hostKey: "AAAA-not-a-key" }) });
    expect(f.property).toBe("connection.hostKey");
    expect(f.reason).toMatch(/connection\.hostKey must be a public key/);
  });

  it("checks that the private key parses, with its password when encrypted, without quoting it", () => {
    expect(
      checkResource(REMOTE, { connection: conn({ privateKey: encKey.private, privateKeyPassword: "pw" }) }),
    ).toEqual([]);
    const [f] = checkResource(REMOTE, { connection: conn({ privateKey: encKey.private }) });
    expect(f.property).toBe("connection.privateKey");
    expect(f.reason).toMatch(/cannot be parsed .*privateKeyPassword/);
    const [g] = checkResource(REMOTE, {
      connection: secret(conn({ privateKey: "-----BEGIN garbage SECRETSTUFF" })),
    });
    expect(g.reason).not.toMatch(/SECRETSTUFF/);
  });

  it("validates the proxy like a connection, and a proxy cannot have a proxy", () => {
    expect(checkResource(REMOTE, { connection: conn({ proxy: { host: "bastion", port: 22 } }) })).toEqual([]);
    expect(checkResource(REMOTE, { connection: conn({ proxy: { port: 0 } }) })).toEqual([
      { property: "connection.proxy.host", reason: "missing required property connection.proxy.host" },
      {
        property: "connection.proxy.port",
        reason: "connection.proxy.port must be between 1 and 65535, not 0",
      },
    ]);
    expect(
      checkResource(REMOTE, { connection: conn({ proxy: { host: "b", proxy: { host: "c" } } }) }),
    ).toEqual([{ property: "connection.proxy.proxy", reason: "unknown property connection.proxy.proxy" }]);
  });

  it("requires plain identifiers as environment names (they go into an export line)", () => {
    expect(checkResource(REMOTE, { connection: conn(), environment: { "A-B": "x" } })).toEqual([
      {
        property: "environment.A-B",
        reason: 'environment variable name "A-B" is invalid: it must match ^[A-Za-z_][A-Za-z0-9_]*$',
      },
    ]);
  });

  it("does not know local-only inputs", () => {
    expect(checkResource(REMOTE, { connection: conn(), dir: "/" })).toEqual([
      { property: "dir", reason: "unknown property dir" },
    ]);
  });
});

describe("check: command:remote:CopyToRemote", () => {
  it("accepts StringAsset, FileAsset and FileArchive sources", () => {
    for (const source of [
      stringAsset("x"),
      fileAsset("a.txt"),
      fileArchive("dir"),
      secret(stringAsset("s")),
    ]) {
      expect(checkResource(COPY, { connection: conn(), source, remotePath: "/etc/x" })).toEqual([]);
    }
  });

  it("requires connection, source and remotePath", () => {
    expect(checkResource(COPY, {}).map((f) => f.property)).toEqual(["connection", "remotePath", "source"]);
  });

  it("rejects remote assets, asset archives and plain values", () => {
    const reasons = [remoteAsset("https://x"), assetArchive({}), "just a string"].map(
      (source) => checkResource(COPY, { connection: conn(), source, remotePath: "/x" })[0].reason,
    );
    expect(reasons).toEqual([
      "source: a RemoteAsset cannot be copied: use a FileAsset or a StringAsset",
      "source: an AssetArchive cannot be copied: use a FileArchive of a directory",
      "source: source must be a FileAsset, a StringAsset or a FileArchive",
    ]);
  });
});

describe("check: command:local:run", () => {
  it("requires a command", () => {
    expect(checkRunArgs({})).toEqual([{ property: "command", reason: "missing required property command" }]);
    expect(checkRunArgs({ command: "x", create: "y" })).toEqual([
      { property: "create", reason: "unknown property create" },
    ]);
  });
});
