// Component tests without an engine: record every resource a program registers, with the resource
// options the engine would act on (dependencies, additional secret outputs).
import * as pulumi from "@pulumi/pulumi";

export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** URNs of the resources it waits for (`dependsOn`, and its inputs' resources). */
  readonly dependencies: readonly string[];
  /** Outputs the engine must mark secret (`additionalSecretOutputs`). */
  readonly additionalSecretOutputs: readonly string[];
  /** URN of its parent ("" for none). */
  readonly parent: string;
  /** URN of the resource it is `deletedWith` ("" for none): its delete is skipped when that one goes too. */
  readonly deletedWith: string;
}

/** The part of the RegisterResourceRequest (protobuf) the recorder reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getParent(): string;
  getDeletedwith(): string;
}

type RegisterResource = (
  req: RegisterRequest,
  callback: (err: unknown, response: unknown) => void,
) => Promise<void>;

/**
 * Installs mocks (before the code under test is imported) and returns the live list of resources.
 * @param stack the stack name the program sees (`pulumi.getStack()`). @default "unit"
 */
export function recordResources(
  outputsFor: (r: RegisteredResource) => Record<string, unknown> = () => ({}),
  stack = "unit",
) {
  const resources: RegisteredResource[] = [];
  // The mocks' newResource sees only type, name and inputs; the options come from the request itself.
  const options = new Map<
    string,
    Pick<RegisteredResource, "dependencies" | "additionalSecretOutputs" | "parent" | "deletedWith">
  >();
  const key = (type: string, name: string) => `${type}::${name}`;
  void pulumi.runtime.setMocks(
    {
      newResource(args) {
        const resource: RegisteredResource = {
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          dependencies: [],
          additionalSecretOutputs: [],
          parent: "",
          deletedWith: "",
          ...options.get(key(args.type, args.name)),
        };
        resources.push(resource);
        return { id: `${args.name}-id`, state: { ...args.inputs, ...outputsFor(resource) } };
      },
      call: () => ({}),
    },
    "geartrain",
    stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: RegisterResource };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    options.set(key(req.getType(), req.getName()), {
      dependencies: req.getDependenciesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      parent: req.getParent(),
      deletedWith: req.getDeletedwith(),
    });
    return register(req, callback);
  };
  return resources;
}

/** Resolves an Output in a test (mocks resolve synchronously enough for await). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}
