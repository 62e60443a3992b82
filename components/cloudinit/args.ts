// Types for cloud-init user data. `UserDataConfig` mirrors the inputs of `cloudinit.getConfig` (the
// @pulumi/cloudinit provider we cannot use, see docs/cloud-init.md); `CloudConfig` types the cloud-config
// modules Geartrain uses, named exactly as cloud-init spells them.
import type * as pulumi from "@pulumi/pulumi";

/** One part of the user data (cloudinit.getConfig `parts[]`). */
export interface UserDataPart {
  /**
   * MIME type of the part, which selects the cloud-init handler.
   * @example "text/cloud-config", "text/x-shellscript", "text/cloud-boothook"
   */
  readonly contentType: string;
  /** The part's body, e.g. the output of `renderCloudConfig`. */
  readonly content: string;
  /**
   * `Content-Disposition` filename. cloud-init uses it to name the part (e.g. the script file).
   * @default "part-NNN", the 1-based name cloud-init itself gives an unnamed part
   */
  readonly filename?: string;
  /**
   * `X-Merge-Type` header: how this cloud-config merges with earlier ones.
   * @example "list(append)+dict(no_replace,recurse_list)+str()"
   */
  readonly mergeType?: string;
}

/** Inputs of `renderUserData` (cloudinit.getConfig's inputs, with our defaults). */
export interface UserDataConfig {
  /** Gzip the message (needs `base64Encode`, a string cannot carry raw gzip bytes). @default false */
  readonly gzip?: boolean;
  /** Base64-encode the result. @default false */
  readonly base64Encode?: boolean;
  /** MIME boundary. @default "geartrain-" + 32 hex digits of the sha256 of the parts (deterministic) */
  readonly boundary?: string;
  /** At least one part, in order. */
  readonly parts: readonly UserDataPart[];
}

export const DEFAULTS = {
  gzip: false,
  base64Encode: false,
} as const;

/** Component args: {@link UserDataConfig} with every field a `pulumi.Input` (may be secret or unknown). */
export interface UserDataArgs {
  /** @default false */
  readonly gzip?: pulumi.Input<boolean>;
  /** @default false */
  readonly base64Encode?: pulumi.Input<boolean>;
  /** @default derived from the sha256 of the parts */
  readonly boundary?: pulumi.Input<string>;
  /** @example [{ contentType: "text/cloud-config", content: renderCloudConfig({ packages: ["nginx"] }) }] */
  readonly parts: pulumi.Input<readonly pulumi.Input<UserDataPartArgs>[]>;
}

export interface UserDataPartArgs {
  readonly contentType: pulumi.Input<string>;
  readonly content: pulumi.Input<string>;
  readonly filename?: pulumi.Input<string>;
  readonly mergeType?: pulumi.Input<string>;
}

// ---------------------------------------------------------------------------------------------------------
// cloud-config (https://cloudinit.readthedocs.io/en/latest/reference/modules.html). Lists keep the order
// given: for runcmd, bootcmd and write_files the order is meaningful.

/** A command: a string runs through `sh -c`, a list runs directly (no shell; preferred). */
export type CloudConfigCommand = string | readonly string[];

/** `users[]` entry (cc_users_groups). */
export interface CloudConfigUser {
  readonly name: string;
  readonly gecos?: string;
  readonly primary_group?: string;
  /** Supplementary groups. */
  readonly groups?: string | readonly string[];
  readonly shell?: string;
  readonly homedir?: string;
  readonly no_create_home?: boolean;
  readonly system?: boolean;
  readonly uid?: number;
  /** sudoers rule(s), e.g. "ALL=(ALL) NOPASSWD:ALL"; false for none. */
  readonly sudo?: string | readonly string[] | false;
  readonly lock_passwd?: boolean;
  readonly ssh_authorized_keys?: readonly string[];
}

/** `write_files[]` entry (cc_write_files). */
export interface CloudConfigFile {
  /** Absolute path. */
  readonly path: string;
  readonly content?: string;
  /** Encoding of `content`. @default "text/plain" */
  readonly encoding?:
    "text/plain" | "b64" | "base64" | "gzip" | "gz" | "gz+b64" | "gz+base64" | "gzip+b64" | "gzip+base64";
  /** "user:group". @default "root:root" */
  readonly owner?: string;
  /** Octal mode as a string, e.g. "0640". @default "0644" */
  readonly permissions?: string;
  /** Append instead of replacing. @default false */
  readonly append?: boolean;
  /** Write in the final stage, after users and packages exist. @default false */
  readonly defer?: boolean;
}

/** The cloud-config modules Geartrain uses. Add fields here (with cloud-init's spelling) as needed. */
export interface CloudConfig {
  readonly hostname?: string;
  readonly fqdn?: string;
  readonly prefer_fqdn_over_hostname?: boolean;
  readonly manage_etc_hosts?: boolean | "localhost";
  readonly timezone?: string;
  readonly package_update?: boolean;
  readonly package_upgrade?: boolean;
  readonly package_reboot_if_required?: boolean;
  /** Package names, or [name, version] pairs. */
  readonly packages?: readonly (string | readonly [string, string])[];
  /** "default" keeps the distribution's default user. */
  readonly users?: readonly ("default" | CloudConfigUser)[];
  readonly ssh_pwauth?: boolean;
  readonly disable_root?: boolean;
  /** Keys for the default user. */
  readonly ssh_authorized_keys?: readonly string[];
  readonly ssh_deletekeys?: boolean;
  readonly ssh_genkeytypes?: readonly ("ecdsa" | "ed25519" | "rsa")[];
  readonly write_files?: readonly CloudConfigFile[];
  /** Runs early on every boot. */
  readonly bootcmd?: readonly CloudConfigCommand[];
  /** Runs once, late in the first boot. */
  readonly runcmd?: readonly CloudConfigCommand[];
  readonly final_message?: string;
}
