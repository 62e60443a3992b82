// The SSH public keys Geartrain accepts, for every layer: the broker refuses at the API what a node would
// refuse when it writes the gear's authorized_keys (node/deploy/ssh-keys-model.ts), so the two never disagree.
// DSA (`ssh-dss`) is not among them: OpenSSH has refused it since 8.8.

export const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
  "ssh-rsa",
] as const;
export type SshKeyType = (typeof SSH_KEY_TYPES)[number];

/** A key's name (the last part of a gear's GEARTRAIN-<uuid>-<name> key comment). */
export const SSH_KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
