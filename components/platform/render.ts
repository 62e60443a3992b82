// The Platform's pure renderers: cloud-init user data for each host of the plan, for users who create the
// VMs with a cloud provider and then let the stack configure them over SSH. Deterministic (sorted packages,
// no time, no randomness). Validated with Debian's `cloud-init schema` in test/unit/components/platform.
import type { CloudConfig } from "../cloudinit/args";
import { renderCloudConfig } from "../cloudinit/render";
import type { PlatformRole } from "./args";
import type { HostPlan, PlatformPlan } from "./plan";

/**
 * Debian packages each role needs on its host before the stack configures it. Not Node.js: Debian 12's is
 * 18 and the broker and agent need 20; the Geartrain release (components/release) brings its own.
 */
export const ROLE_PACKAGES: Readonly<Record<PlatformRole, readonly string[]>> = {
  broker: ["ca-certificates", "runit"],
  msgserver: ["activemq", "openssl", "runit"],
  datastore: ["postgresql", "runit"],
  nameserver: ["bind9", "bind9-dnsutils", "runit"],
  node: [
    "ca-certificates",
    "cron",
    "git",
    "iptables",
    "nftables",
    "nginx",
    // the nodejs cartridge runs the host's own Node.js (18 or later: Debian 12's nodejs is 18)
    "nodejs",
    "openssh-server",
    "python3",
    "quota",
    "runit",
  ],
};

/** The cloud-config of one host: its names, its roles' packages, Geartrain's directories, login keys. */
export function hostCloudConfig(
  plan: PlatformPlan,
  host: HostPlan,
  sshAuthorizedKeys: readonly string[] = [],
): CloudConfig {
  const packages = [...new Set(host.roles.flatMap((r) => ROLE_PACKAGES[r]))].sort();
  const description = {
    platform: plan.name,
    domain: plan.domain,
    host: host.name,
    address: host.address,
    roles: [...host.roles].sort(),
  };
  return {
    hostname: host.name,
    fqdn: host.fqdn,
    package_update: true,
    packages,
    ...(sshAuthorizedKeys.length > 0 ? { ssh_authorized_keys: [...sshAuthorizedKeys] } : {}),
    write_files: [
      {
        path: `${plan.configDirectory}/host.json`,
        content: JSON.stringify(description, null, 2) + "\n",
        owner: "root:root",
        permissions: "0644",
      },
    ],
    runcmd: [
      ["install", "-d", "-m", "0755", plan.configDirectory],
      ["install", "-d", "-m", "0755", plan.dataDirectory],
      ["install", "-d", "-m", "0755", plan.serviceDirectory],
    ],
    final_message: `Geartrain host ${host.name} (${description.roles.join(", ")}) is ready for pulumi up`,
  };
}

/** `#cloud-config` text of one host. */
export function renderHostUserData(
  plan: PlatformPlan,
  host: HostPlan,
  sshAuthorizedKeys: readonly string[] = [],
): string {
  return renderCloudConfig(hostCloudConfig(plan, host, sshAuthorizedKeys));
}
