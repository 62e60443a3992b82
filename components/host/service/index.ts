// Service: one long-lived daemon on a Host, declared once (ServiceArgs) and run by the host's supervisor:
// systemd where it is PID 1, a private runit (runsvdir + sv) elsewhere. The class validates (pure, model.ts),
// then declares one ServiceDaemon (provider.ts) that writes the definition, starts the daemon, waits for
// its readiness check and, on every later `up`, starts it again if it died. docs/services.md.
import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../../common/errors";
import { attributeErrors } from "../../resource-error";
import type { Host } from "../index";
import { childName } from "../resolve";
import { ServiceArgs, ServiceBackend } from "./args";
import { resolveService, ServiceSpec, ServiceSpecInput, servicePaths } from "./model";
import { ServiceDaemon } from "./provider";

export * from "./args";
export { resolveService, servicePaths, unitName } from "./model";
export type { ServiceSpec } from "./model";

export interface ServiceResourceArgs extends ServiceArgs {
  /** The host the daemon runs on. */
  readonly host: Host;
}

export class Service extends pulumi.ComponentResource {
  /** The daemon's name on its host (ServiceArgs.name). */
  public readonly serviceName: string;
  /** The name of the Host it runs on. */
  public readonly hostName: string;
  /** The supervisor that runs it: "systemd" or "runit". */
  public readonly backend: pulumi.Output<ServiceBackend>;
  /** Where its definition lives: the systemd unit file, or the runit service directory. */
  public readonly definitionPath: pulumi.Output<string>;
  /** The dynamic resource that starts and watches the daemon (what other services wait for). */
  public readonly daemon: ServiceDaemon;

  constructor(name: string, args: ServiceResourceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:host:Service", name, {}, opts);
    const input = (backend: string): ServiceSpecInput => ({
      name: args.name,
      backend,
      serviceDirectory: args.host.serviceDirectory,
      command: args.command,
      user: args.user,
      group: args.group,
      workingDirectory: args.workingDirectory,
      environmentNames: Object.keys(args.environment ?? {}),
      restart: args.restart,
      readiness: args.readiness,
      stopSignal: args.stopSignal,
      stopTimeoutSeconds: args.stopTimeoutSeconds,
      requires: (args.requires ?? []).map((r) => r.serviceName),
    });
    attributeErrors(this, () => {
      // everything but the backend is known now: bad input fails before anything is declared
      resolveService(input(args.backend ?? "runit"));
      (args.requires ?? []).forEach((r, i) => {
        if (r.hostName !== args.host.hostName) {
          throw new ValidationError(
            `requires[${i}]`,
            `service '${r.serviceName}' runs on host '${r.hostName}', not on '${args.host.hostName}'`,
          );
        }
      });
    });
    this.serviceName = args.name;
    this.hostName = args.host.hostName;

    const access = args.host.serviceAccess();
    this.backend = args.backend
      ? pulumi.output(args.backend)
      : args.host.facts.apply((f): ServiceBackend => (f.systemd ? "systemd" : "runit"));
    const spec: pulumi.Output<ServiceSpec> = this.backend.apply((b) => resolveService(input(b)));
    this.definitionPath = spec.apply((s) =>
      s.backend === "systemd" ? servicePaths(s).entry : servicePaths(s).dir,
    );
    this.daemon = new ServiceDaemon(
      attributeErrors(this, () => childName(name, "daemon")),
      {
        host: args.host.hostName,
        connection: access.connection,
        spec,
        environment: args.environment ?? {},
      },
      { parent: this, dependsOn: [...access.ready, ...(args.requires ?? []).map((r) => r.daemon)] },
    );
    this.registerOutputs({
      backend: this.backend,
      definitionPath: this.definitionPath,
    });
  }
}
