// The PlatformApps component's decisions, pure: each application's arguments checked with the Application's
// own rules (the broker's schemas) and every error named `apps[<i>].<field>`; the resources it declares and
// their names (one BrokerDomain per distinct domain); where each source directory is; and which node's gear
// git sshd (address, port, pinned host key) serves an application's git URL. No Pulumi, no I/O.

import * as path from "path";
import { ValidationError } from "../../common/errors";
import type { GitSshHost } from "../../providers/app-source";
import { parseGitUrl } from "../../providers/app-source/model";
import { resolveApplication } from "../application/resolve";
import type { PlatformNodeOutput } from "../platform";
import { validateComponentName } from "../platform-resolve";

/** One application of the stack (the topology's `apps[]`). */
export interface PlatformAppSpec {
  /** Letters and digits, lowercase, up to 32 (the broker's rule). */
  readonly name: string;
  /** The namespace; declared by the component (one BrokerDomain per distinct name). */
  readonly domain: string;
  /** `<name>-<version>`, e.g. `nodejs-20`. */
  readonly webCartridge: string;
  /** Embedded cartridges, e.g. `postgresql-15`. @default [] */
  readonly cartridges?: readonly string[];
  /** small, medium or large. @default "small" */
  readonly gearProfile?: string;
  /** Plain variables. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** A directory relative to the root directory, pushed to the application (AppSource). */
  readonly source?: string;
}

export interface AppPlan {
  readonly spec: PlatformAppSpec;
  /** Where it is in the arguments, for errors: `apps[<i>]`. */
  readonly field: string;
  /** The Application's name: `<component>-<domain>-<name>`. */
  readonly resource: string;
  /** The BrokerDomain's name of its domain. */
  readonly domainResource: string;
  /** Its key in the outputs: the DNS label `<name>-<domain>`. */
  readonly key: string;
  /** The AppSource (`<resource>-source`) and its absolute directory, when it has a source. */
  readonly source?: { readonly resource: string; readonly directory: string };
}

export interface PlatformAppsPlan {
  readonly domains: readonly { readonly name: string; readonly resource: string }[];
  readonly apps: readonly AppPlan[];
}

const SOURCE = /^(?!\/)[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/** Checks every application and plans the resources; a bad value throws a ValidationError naming `apps[i].<field>`. */
export function planApps(
  name: string,
  apps: readonly PlatformAppSpec[],
  rootDirectory: string,
): PlatformAppsPlan {
  validateComponentName(name);
  if (!path.isAbsolute(rootDirectory)) throw new ValidationError("rootDirectory", "must be an absolute path");
  if (!Array.isArray(apps)) throw new ValidationError("apps", "must be a list of applications");
  const seen = new Map<string, number>();
  const planned = apps.map((spec, i): AppPlan => {
    const field = `apps[${i}]`;
    if (spec === null || typeof spec !== "object")
      throw new ValidationError(field, "must be an application object");
    try {
      resolveApplication({ ...spec, name: spec.name ?? "" });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      throw new ValidationError(`${field}.${err.field}`, err.message.replace(/^invalid [^:]+: /, ""));
    }
    if (typeof spec.name !== "string" || spec.name === "")
      throw new ValidationError(`${field}.name`, "an application needs a name");
    const key = `${spec.name}-${spec.domain}`;
    const first = seen.get(key);
    if (first !== undefined)
      throw new ValidationError(
        `${field}.name`,
        `"${spec.name}" in domain "${spec.domain}" is apps[${first}] already`,
      );
    seen.set(key, i);
    const resource = `${name}-${spec.domain}-${spec.name}`;
    let source: AppPlan["source"];
    if (spec.source !== undefined) {
      if (
        typeof spec.source !== "string" ||
        !SOURCE.test(spec.source) ||
        spec.source.split("/").some((s: string) => s === "." || s === "..")
      )
        throw new ValidationError(
          `${field}.source`,
          `${JSON.stringify(spec.source)} must be a directory relative to the project root, without '.' or '..'`,
        );
      source = { resource: `${resource}-source`, directory: path.join(rootDirectory, spec.source) };
    }
    return {
      spec,
      field,
      resource,
      domainResource: `${name}-domain-${spec.domain}`,
      key,
      ...(source ? { source } : {}),
    };
  });
  const domains = [...new Set(planned.map((a) => a.spec.domain))].map((d) => ({
    name: d,
    resource: `${name}-domain-${d}`,
  }));
  return { domains, apps: planned };
}

/**
 * The gear git sshd of the node an application's git URL names (by the node's public host name): where to
 * connect, the port, and the host key to pin. Throws when no node of the platform has that name.
 */
export function gitSshHostOf(
  gitUrl: string,
  nodes: readonly PlatformNodeOutput[] | Record<string, PlatformNodeOutput>,
): GitSshHost {
  const parsed = parseGitUrl(gitUrl);
  if (parsed === null)
    throw new ValidationError("gitUrl", `${JSON.stringify(gitUrl)} is not a gear's git URL`);
  // (the mocked engine of the unit tests hands arrays back as index-keyed objects)
  const node = Object.values(nodes).find((n) => n.publicHostname === parsed.host);
  if (node === undefined)
    throw new ValidationError("gitUrl", `${parsed.host} (from ${gitUrl}) is none of the platform's nodes`);
  return { address: node.gitSsh.host, port: node.gitSsh.port, hostKey: node.gitSsh.hostKey };
}
