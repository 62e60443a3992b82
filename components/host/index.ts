// Host: the one way Geartrain runs commands and writes files on a machine, local or over SSH.
// Every other component asks a Host for commands; nothing else touches @pulumi/command.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { attributeErrors } from "../resource-error";
import { DEFAULTS, HostArgs, HostCommandArgs, HostConnection, HostFacts, HostFileArgs } from "./args";
import {
  childName,
  FACTS_SCRIPT,
  fileEnvironment,
  parseFacts,
  REMOVE_FILE_SCRIPT,
  strictScript,
  validateConnection,
  validateFile,
  validateHostName,
  WRITE_FILE_SCRIPT,
} from "./resolve";

export * from "./args";

type HostCommand = command.local.Command | command.remote.Command;

export class Host extends pulumi.ComponentResource {
  /** `local` or `ssh`. */
  public readonly connectionType: pulumi.Output<string>;
  /** Kernel, OS, cgroup version and SELinux state, read from the host when it was first set up. */
  public readonly facts: pulumi.Output<HostFacts>;

  private readonly hostName: string;
  private readonly connection: HostConnection;
  private readonly sshConnection?: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Commands wait for this one: on SSH hosts it polls until the host answers. */
  private readonly ready: pulumi.Resource[];

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:host:Host", name, {}, opts);
    attributeErrors(this, () => {
      validateHostName(name);
      validateConnection(name, args.connection, args.privateKey !== undefined);
    });
    this.hostName = name;
    this.connection = args.connection;

    if (args.connection.type === "ssh") {
      const c = args.connection;
      this.sshConnection = {
        host: c.address,
        port: c.port ?? DEFAULTS.sshPort,
        user: c.user ?? DEFAULTS.sshUser,
        hostKey: c.hostKey,
        privateKey: pulumi.secret(args.privateKey!),
        perDialTimeout: c.perDialTimeout ?? DEFAULTS.perDialTimeoutSeconds,
        dialErrorLimit: c.dialErrorLimit ?? DEFAULTS.dialErrorLimit,
      };
      const wait = new command.remote.Command(
        childName(name, "wait-ssh"),
        {
          connection: { ...this.sshConnection, dialErrorLimit: -1 },
          create: "true",
        },
        {
          parent: this,
          customTimeouts: { create: args.sshWaitTimeout ?? DEFAULTS.sshWaitTimeout },
          deletedWith: this,
        },
      );
      this.ready = [wait];
    } else {
      this.ready = [];
    }

    const facts = this.command("facts", { create: FACTS_SCRIPT });
    this.connectionType = pulumi.output(args.connection.type);
    this.facts = facts.stdout.apply((stdout) => attributeErrors(this, () => parseFacts(stdout)));
    this.registerOutputs({ connectionType: this.connectionType, facts: this.facts });
  }

  /**
   * Runs scripts on the host as a child resource named `${host}-${role}`. Scripts run under bash
   * with `set -euo pipefail`; values go in `environment`, never into the script text.
   */
  public command(role: string, args: HostCommandArgs, opts?: pulumi.CustomResourceOptions): HostCommand {
    const name = attributeErrors(this, () => childName(this.hostName, role));
    const common = {
      create: pulumi.output(args.create).apply(strictScript),
      update: args.update === undefined ? undefined : pulumi.output(args.update).apply(strictScript),
      delete: args.delete === undefined ? undefined : pulumi.output(args.delete).apply(strictScript),
      environment: args.environment,
      stdin: args.stdin,
      triggers: args.triggers,
      logging: args.secret ? ("none" as const) : undefined,
    };
    const resourceOpts: pulumi.CustomResourceOptions = {
      parent: this,
      ...opts,
      dependsOn: [...this.ready, ...toArray(opts?.dependsOn)],
      additionalSecretOutputs: args.secret ? ["stdout", "stderr"] : undefined,
    };
    if (this.connection.type === "local") {
      return new command.local.Command(name, { ...common, interpreter: ["/bin/bash", "-c"] }, resourceOpts);
    }
    return new command.remote.Command(
      name,
      { ...common, connection: this.sshConnection! },
      { ...resourceOpts, deletedWith: this },
    );
  }

  /** Writes a file atomically with its mode and owner; removes it when the resource is deleted. */
  public file(role: string, file: HostFileArgs, opts?: pulumi.CustomResourceOptions): HostCommand {
    attributeErrors(this, () => validateFile(file));
    const content = file.secret ? pulumi.secret(file.content) : pulumi.output(file.content);
    return this.command(
      role,
      {
        create: WRITE_FILE_SCRIPT,
        delete: REMOVE_FILE_SCRIPT,
        environment: fileEnvironment(file),
        stdin: content,
        secret: file.secret,
      },
      opts,
    );
  }
}

function toArray<T>(value: pulumi.Input<pulumi.Input<T>[]> | pulumi.Input<T> | undefined): pulumi.Input<T>[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as pulumi.Input<T>[]) : [value as pulumi.Input<T>];
}
