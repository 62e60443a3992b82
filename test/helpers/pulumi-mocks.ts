// Component tests without an engine: record every resource a program registers.
import * as pulumi from "@pulumi/pulumi";

export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/** Installs mocks (before the code under test is imported) and returns the live list of resources. */
export function recordResources(outputsFor: (r: RegisteredResource) => Record<string, unknown> = () => ({})) {
  const resources: RegisteredResource[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const resource = { type: args.type, name: args.name, inputs: args.inputs };
        resources.push(resource);
        return { id: `${args.name}-id`, state: { ...args.inputs, ...outputsFor(resource) } };
      },
      call: () => ({}),
    },
    "geartrain",
    "unit",
    false,
  );
  return resources;
}

/** Resolves an Output in a test (mocks resolve synchronously enough for await). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}
