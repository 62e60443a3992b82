// Typed fixtures for the cloud-init renderer: a minimal and a full cloud-config, and user data built on them.
import type { CloudConfig, UserDataConfig } from "../../../components/cloudinit";
import { renderCloudConfig } from "../../../components/cloudinit";

export const MINIMAL_CLOUD_CONFIG: CloudConfig = {
  package_update: true,
  packages: ["openssh-server"],
};

/** Every CloudConfig field in use, with values that trip naive YAML (yes/on/octal/colons/#). */
export const FULL_CLOUD_CONFIG: CloudConfig = {
  hostname: "node1",
  fqdn: "node1.stage.geartrain.test",
  prefer_fqdn_over_hostname: true,
  manage_etc_hosts: true,
  timezone: "Etc/UTC",
  package_update: true,
  package_upgrade: false,
  package_reboot_if_required: false,
  packages: ["nginx", "quota", ["openssh-server", "1:9.2p1-2+deb12u3"]],
  users: [
    "default",
    {
      name: "geartrain",
      gecos: "Geartrain operator",
      primary_group: "geartrain",
      groups: ["adm", "sudo"],
      shell: "/bin/bash",
      sudo: "ALL=(ALL) NOPASSWD:ALL",
      lock_passwd: true,
      ssh_authorized_keys: [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc9Sk1MEVoMLHRB1mjEMpSBst3Mwa+BAhsrCePKaJuf operator",
      ],
    },
    {
      name: "gearsvc",
      system: true,
      no_create_home: true,
      homedir: "/var/lib/geartrain",
      uid: 990,
      sudo: false,
    },
  ],
  ssh_pwauth: false,
  disable_root: true,
  ssh_authorized_keys: [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOyv9PN2vFY8mQiBg7MFx2Q20aVVhYrQ8TbN2JfFWygY ci",
  ],
  ssh_deletekeys: true,
  ssh_genkeytypes: ["ed25519", "ecdsa"],
  write_files: [
    {
      path: "/etc/geartrain/node.conf",
      content: "# managed by geartrain\nGEAR_BASE_DIR=/var/lib/geartrain\nENABLED=yes\n",
      owner: "root:root",
      permissions: "0640",
    },
    { path: "/etc/motd", content: "Geartrain node: gears run here\n", permissions: "0644", append: true },
    { path: "/etc/geartrain/flag", content: "on", encoding: "text/plain", defer: true },
    { path: "/etc/geartrain/blob", content: "aGVsbG8K", encoding: "b64" },
  ],
  bootcmd: [["install", "-d", "-m", "0755", "/run/geartrain"]],
  runcmd: [["systemctl", "restart", "ssh"], "echo 'node: ready' >> /var/log/geartrain.log # appended"],
  final_message: "Geartrain node up after $UPTIME seconds",
};

/** One cloud-config part: rendered as the bare cloud-config. */
export const MINIMAL_USER_DATA: UserDataConfig = {
  parts: [{ contentType: "text/cloud-config", content: renderCloudConfig(MINIMAL_CLOUD_CONFIG) }],
};

/** Three parts: merged cloud-configs and a script with a non-ASCII line. */
export const FULL_USER_DATA: UserDataConfig = {
  parts: [
    {
      contentType: "text/cloud-config",
      filename: "geartrain-node.yaml",
      content: renderCloudConfig(FULL_CLOUD_CONFIG),
    },
    {
      contentType: "text/cloud-config",
      filename: "extra-packages.yaml",
      mergeType: "list(append)+dict(no_replace,recurse_list)+str()",
      content: renderCloudConfig({ packages: ["git"] }),
    },
    {
      contentType: "text/x-shellscript",
      filename: "announce.sh",
      content: "#!/bin/sh\necho 'Geartrain node — ready' > /dev/console\n",
    },
  ],
};
