// Host: the one way Geartrain runs commands and writes files on a machine, local or over SSH.
// Every other component asks a Host for commands; nothing else touches @pulumi/command.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { attributeErrors } from "../resource-error";
import { DEFAULTS, HostArgs, HostCommandArgs, HostConnection, HostFacts, HostFileArgs } from "./args";
import {
  childName,
  DATA_DIRECTORY_SCRIPT,
  FACTS_SCRIPT,
  fileEnvironment,
  parseFacts,
  REMOVE_DATA_DIRECTORY_SCRIPT,
  REMOVE_FILE_SCRIPT,
  strictScript,
  validateConnection,
  validateFile,
  validateHostName,
  validateServiceDirectory,
  validateWaitAttempts,
  WRITE_FILE_SCRIPT,
} from "./resolve";
import type { ServiceConnection } from "./service/operations";

export * from "./args";

type HostCommand = command.local.Command | command.remote.Command;

export class Host extends pulumi.ComponentResource {
  /** `local` or `ssh`. */
  public readonly connectionType: pulumi.Output<string>;
  /** Kernel, OS, cgroup version and SELinux state, read from the host when it was first set up. */
  public readonly facts: pulumi.Output<HostFacts>;

  /** The host's name (its children are `${hostName}-<role>`). */
  public readonly hostName: string;
  /** Where the host's Services keep their files (HostArgs.serviceDirectory). */
  public readonly serviceDirectory: string;
  private readonly connection: HostConnection;
  private readonly sshConnection?: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Commands wait for this one: on SSH hosts it polls until the host answers. */
  private readonly ready: pulumi.Resource[];
  private readonly factsCommand: HostCommand;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:host:Host", name, {}, opts);
    attributeErrors(this, () => {
      validateHostName(name);
      validateConnection(name, args.connection, args.privateKey !== undefined);
      validateWaitAttempts(name, args.sshWaitAttempts ?? DEFAULTS.sshWaitAttempts);
      validateServiceDirectory(name, args.serviceDirectory ?? DEFAULTS.serviceDirectory);
      if (args.dataDirectory !== undefined)
        validateServiceDirectory(name, args.dataDirectory, "dataDirectory");
    });
    this.hostName = name;
    this.serviceDirectory = args.serviceDirectory ?? DEFAULTS.serviceDirectory;
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
          connection: {
            ...this.sshConnection,
            dialErrorLimit: args.sshWaitAttempts ?? DEFAULTS.sshWaitAttempts,
          },
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
    // the data directory, before every other command of the host (and so removed after them all)
    if (args.dataDirectory !== undefined) {
      const dataDirectory = this.command("data-directory", {
        create: DATA_DIRECTORY_SCRIPT,
        delete: REMOVE_DATA_DIRECTORY_SCRIPT,
        environment: { GT_DIR: args.dataDirectory },
      });
      this.ready = [...this.ready, dataDirectory];
    }

    const facts = this.command("facts", { create: FACTS_SCRIPT });
    this.factsCommand = facts;
    this.connectionType = pulumi.output(args.connection.type);
    this.facts = facts.stdout.apply((stdout) => attributeErrors(this, () => parseFacts(stdout)));
    this.registerOutputs({ connectionType: this.connectionType, facts: this.facts });
  }

  /**
   * How a Service's provider reaches the host (the SSH form carries the private key: a secret), and what
   * it must wait for (the SSH gate and the facts).
   * @internal
   */
  public serviceAccess(): { connection: pulumi.Output<ServiceConnection>; ready: pulumi.Resource[] } {
    const ready = [...this.ready, this.factsCommand];
    if (this.connection.type === "local")
      return { connection: pulumi.output({ type: "local" as const }), ready };
    const c = this.connection;
    const ssh = pulumi.output(this.sshConnection!).apply((s): ServiceConnection => ({
      type: "ssh",
      host: c.address,
      port: c.port ?? DEFAULTS.sshPort,
      user: c.user ?? DEFAULTS.sshUser,
      hostKey: c.hostKey,
      privateKey: String(s.privateKey),
      perDialTimeout: c.perDialTimeout ?? DEFAULTS.perDialTimeoutSeconds,
      dialErrorLimit: c.dialErrorLimit ?? DEFAULTS.dialErrorLimit,
    }));
    return { connection: pulumi.secret(ssh), ready };
  }

  /**
   * Runs scripts on the host as a child resource named `${host}-${role}`. Scripts run under bash
   * with `set -euo pipefail`; values go in `environment`, never into the script text.
   */
  public command(role: string, args: HostCommandArgs, opts?: pulumi.CustomResourceOptions): HostCommand {
    const name = attributeErrors(this, () => childName(this.hostName, role));
    return this.declareCommand(name, args, opts);
  }

  /**
   * Like `command`, for another component's child: it is named `${owner}-${role}` and parented to `owner`
   * (a Datastore's `db-cluster`), still run on this host and after its SSH gate.
   */
  public commandFor(
    owner: pulumi.Resource,
    ownerName: string,
    role: string,
    args: HostCommandArgs,
    opts?: pulumi.CustomResourceOptions,
  ): HostCommand {
    const name = attributeErrors(owner, () => childName(ownerName, role));
    return this.declareCommand(name, args, { ...opts, parent: owner });
  }

  /** Like `file`, for another component's child (`${owner}-${role}`, parented to `owner`). */
  public fileFor(
    owner: pulumi.Resource,
    ownerName: string,
    role: string,
    file: HostFileArgs,
    opts?: pulumi.CustomResourceOptions,
  ): HostCommand {
    attributeErrors(owner, () => validateFile(file));
    return this.commandFor(owner, ownerName, role, this.fileCommand(file), opts);
  }

  private declareCommand(
    name: string,
    args: HostCommandArgs,
    opts?: pulumi.CustomResourceOptions,
  ): HostCommand {
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
      // not deletedWith the Host: destroying a stack runs every delete script on every host, local or SSH
      // (the Host component is not the machine, which outlives the stack)
      resourceOpts,
    );
  }

  /** Writes a file atomically with its mode and owner; removes it when the resource is deleted. */
  public file(role: string, file: HostFileArgs, opts?: pulumi.CustomResourceOptions): HostCommand {
    attributeErrors(this, () => validateFile(file));
    return this.command(role, this.fileCommand(file), opts);
  }

  private fileCommand(file: HostFileArgs): HostCommandArgs {
    const content = file.secret ? pulumi.secret(file.content) : pulumi.output(file.content);
    return {
      create: WRITE_FILE_SCRIPT,
      delete: REMOVE_FILE_SCRIPT,
      environment: fileEnvironment(file),
      stdin: content,
      secret: file.secret,
    };
  }
}

function toArray<T>(value: pulumi.Input<pulumi.Input<T>[]> | pulumi.Input<T> | undefined): pulumi.Input<T>[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as pulumi.Input<T>[]) : [value as pulumi.Input<T>];
}

export { Service } from "./service";
export type { ServiceResourceArgs } from "./service";
