// The `command` provider through the engine, as users write programs: secrets given to commands,
// output logging, a failing command, and files collected with assetPaths/archivePaths.
import * as pulumi from "@pulumi/pulumi";
import { local, remote } from "@pulumi/command";

/** Commands given the `token` secret in each way; their output must be stored as secrets. */
export function commandSecrets(): Record<string, unknown> {
  const config = new pulumi.Config();
  const token = config.requireSecret("token");
  const viaEnvironment = new local.Command("via-environment", {
    create: 'echo "environment gave $TOKEN"; echo "stderr saw $TOKEN" >&2',
    environment: { TOKEN: token },
  });
  const viaStdin = new local.Command("via-stdin", { create: "cat", stdin: token });
  const viaScript = new local.Command("via-script", {
    create: pulumi.interpolate`echo "script has ${token}"`,
  });
  const plain = new local.Command("plain", { create: "echo nothing secret here" });
  // Over SSH: the connection (always secret) alone leaves the output plain, a secret variable does not.
  const connection = {
    host: "127.0.0.1",
    port: config.requireNumber("sshPort"),
    user: "root",
    privateKey: config.requireSecret("sshKey"),
    dialErrorLimit: 3,
  };
  const remoteSecret = new remote.Command("remote-secret", {
    connection,
    create: 'echo "remote got $TOKEN"',
    environment: { TOKEN: token },
  });
  const remotePlain = new remote.Command("remote-plain", { connection, create: "echo remote plain" });
  return {
    environment: viaEnvironment.stdout,
    environmentStderr: viaEnvironment.stderr,
    stdin: viaStdin.stdout,
    script: viaScript.stdout,
    remote: remoteSecret.stdout,
    plain: plain.stdout,
    remotePlain: remotePlain.stdout,
  };
}

/** A command that succeeds after printing on both streams. */
export function commandOutput(): Record<string, unknown> {
  const chatty = new local.Command("chatty", {
    create: "echo out-line-1; echo out-line-2; echo err-line-1 >&2",
  });
  return { stdout: chatty.stdout, stderr: chatty.stderr };
}

/** A command that fails after printing on both streams (the detail is not in the script's text). */
export function commandFailure(): Record<string, unknown> {
  new local.Command("broken", {
    create: 'echo before-failure; echo "$DETAIL" >&2; exit 3',
    environment: { DETAIL: "failure-detail" },
  });
  return {};
}

/** Files a command leaves in `workdir`, collected as upstream's globbing rules say. */
export function commandAssets(): Record<string, unknown> {
  const dir = new pulumi.Config().require("workdir");
  const globs = ["assets/**", "src/**.js", "!**secret.*"];
  const build = new local.Command("build", {
    dir,
    create:
      "mkdir -p assets/logos src/lib && echo svg > assets/logos/logo.svg && echo index > src/index.js " +
      "&& echo lib > src/lib/util.js && echo hidden > src/secret.js && echo top > top.txt",
    assetPaths: globs,
    archivePaths: globs,
  });
  const run = local.runOutput({ command: "echo ran > run.txt", dir, assetPaths: ["*.txt", "!top.txt"] });
  return {
    assets: build.assets.apply((a) => Object.keys(a ?? {}).sort()),
    archive: build.archive.apply(async (a) =>
      Object.keys(await (a as pulumi.asset.AssetArchive).assets).sort(),
    ),
    runAssets: run.apply((r) => Object.keys(r.assets ?? {}).sort()),
  };
}
