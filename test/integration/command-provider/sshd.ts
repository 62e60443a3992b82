// A throw-away OpenSSH server for the command provider's integration tests: 127.0.0.1 only, a free
// high port, temp host keys (ed25519 and ecdsa), temp authorized keys, root login with keys only.
// stop() kills it and removes every temp file.

import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort, SSHD, stopSshd, waitForBanner } from "../../helpers/sshd";

export { freePort, SSHD };

export interface Sshd {
  port: number;
  dir: string;
  /** Contents of the server's host public keys ("ssh-ed25519 AAAA... comment"). */
  hostKeyEd25519: string;
  hostKeyEcdsa: string;
  /** Unencrypted client private key (OpenSSH format) authorized for root. */
  clientKey: string;
  /** Encrypted client private key and its passphrase, also authorized. */
  encryptedClientKey: string;
  encryptedClientKeyPassphrase: string;
  /** A private key that is NOT authorized. */
  strangerKey: string;
  /** sshd's own log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export function requireSshd(): void {
  if (!fs.existsSync(SSHD)) {
    throw new Error(
      `${SSHD} is missing: the command provider's remote tests need openssh-server. ` +
        "Install it with `apt-get install -y openssh-server` (it is listed in scripts/debian-packages.txt).",
    );
  }
}

function keygen(file: string, type: "ed25519" | "ecdsa", passphrase = ""): void {
  execFileSync(
    "ssh-keygen",
    ["-q", "-t", type, "-N", passphrase, "-C", `geartrain-test-${type}`, "-f", file],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
}

export async function startSshd(): Promise<Sshd> {
  requireSshd();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-sshd-"));
  try {
    const hostEd = path.join(dir, "host_ed25519");
    const hostEc = path.join(dir, "host_ecdsa");
    const client = path.join(dir, "client");
    const clientEnc = path.join(dir, "client_enc");
    const stranger = path.join(dir, "stranger");
    const passphrase = "correct horse battery";
    keygen(hostEd, "ed25519");
    keygen(hostEc, "ecdsa");
    keygen(client, "ed25519");
    keygen(clientEnc, "ed25519", passphrase);
    keygen(stranger, "ed25519");
    const authorized = path.join(dir, "authorized_keys");
    fs.writeFileSync(
      authorized,
      fs.readFileSync(`${client}.pub`, "utf8") + fs.readFileSync(`${clientEnc}.pub`, "utf8"),
      {
        mode: 0o600,
      },
    );
    // sshd refuses to start without its privilege separation directory.
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

    let lastError: Error | undefined;
    for (let tries = 0; tries < 3; tries++) {
      const port = await freePort();
      const config = path.join(dir, "sshd_config");
      fs.writeFileSync(
        config,
        [
          `Port ${port}`,
          "ListenAddress 127.0.0.1",
          `HostKey ${hostEd}`,
          `HostKey ${hostEc}`,
          `PidFile ${path.join(dir, "sshd.pid")}`,
          `AuthorizedKeysFile ${authorized}`,
          "PermitRootLogin prohibit-password",
          "PubkeyAuthentication yes",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "UsePAM no",
          "StrictModes no",
          "AllowTcpForwarding yes",
          "AcceptEnv none",
          "PrintMotd no",
          "Subsystem sftp internal-sftp",
          "LogLevel VERBOSE",
          "",
        ].join("\n"),
      );
      const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
      let log = "";
      child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
      try {
        await waitForBanner(port, child, 10000);
      } catch (e) {
        child.kill("SIGKILL");
        lastError = new Error(`${(e as Error).message}\n--- sshd log ---\n${log}`);
        continue;
      }
      const read = (f: string) => fs.readFileSync(f, "utf8");
      return {
        port,
        dir,
        hostKeyEd25519: read(`${hostEd}.pub`).trim(),
        hostKeyEcdsa: read(`${hostEc}.pub`).trim(),
        clientKey: read(client),
        encryptedClientKey: read(clientEnc),
        encryptedClientKeyPassphrase: passphrase,
        strangerKey: read(stranger),
        log: () => log,
        stop: () => stopSshd(child, dir),
      };
    }
    throw lastError ?? new Error("sshd did not start");
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
