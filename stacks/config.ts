// Loads the stack config once, before any resource is declared. The pure validation lives in
// ./validate.ts (no Pulumi import there, so it is unit-tested without an engine).
//
// Config keys (see docs/configuration.md):
//   geartrain:platform        structured object, validated against ./schema/platform.schema.json
//   geartrain:sshPrivateKey   SECRET: private key for every `ssh` host. Read where the SSH connection is
//                             built with `config.requireSecret("sshPrivateKey")`, never here, so it stays an
//                             Output<string> marked secret end to end.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, validatePlatformConfig, type PlatformConfig } from "./validate";

export * from "./validate";

/**
 * Reads `geartrain:platform` from the current stack and validates it. On invalid config it throws a
 * `pulumi.RunError` whose message lists every problem (RunError: Pulumi prints it without a stack trace).
 */
export function loadPlatformConfig(config: pulumi.Config = new pulumi.Config("geartrain")): PlatformConfig {
  const raw = config.requireObject<unknown>("platform");
  try {
    return validatePlatformConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}
