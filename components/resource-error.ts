// Component argument errors reach the user as pulumi.ResourceError: Pulumi prints them with the resource's
// URN and without a stack trace. The pure resolve modules throw ValidationError (common/errors.ts) and
// import no Pulumi; the component class attributes what they throw to itself here.
import * as pulumi from "@pulumi/pulumi";

/** Runs `fn`; an error it throws is rethrown as a pulumi.ResourceError of `resource`, with the same message. */
export function attributeErrors<T>(resource: pulumi.Resource, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (pulumi.ResourceError.isInstance(err)) throw err;
    throw new pulumi.ResourceError((err as Error).message, resource);
  }
}
