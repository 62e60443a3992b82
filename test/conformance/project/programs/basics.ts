// Engine features users rely on, through our language host: outputs of each kind, a config secret, a
// component with a child and registered outputs, a dynamic provider whose read() a refresh uses, and
// two commands for a targeted update (their script follows the `revision` setting).
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";

interface MarkerInputs {
  readonly path: string;
  readonly content: string;
}

/** A file on this machine; read() reports what the file holds now, so a refresh sees drift. */
const markerProvider: pulumi.dynamic.ResourceProvider<MarkerInputs, MarkerInputs> = {
  async create(inputs) {
    const fs = await import("fs/promises");
    await fs.writeFile(inputs.path, inputs.content);
    return { id: inputs.path, outs: inputs };
  },
  async read(id, props) {
    const fs = await import("fs/promises");
    const content = await fs.readFile(id, "utf8");
    return { id, props: { path: id, content }, inputs: props ? { path: id, content } : undefined };
  },
  async diff(_id, olds, news) {
    return { changes: olds.content !== news.content, replaces: olds.path !== news.path ? ["path"] : [] };
  },
  async update(_id, _olds, news) {
    const fs = await import("fs/promises");
    await fs.writeFile(news.path, news.content);
    return { outs: news };
  },
  async delete(id) {
    const fs = await import("fs/promises");
    await fs.rm(id, { force: true });
  },
};

class Marker extends pulumi.dynamic.Resource {
  declare readonly content: pulumi.Output<string>;
  constructor(name: string, args: { path: pulumi.Input<string>; content: pulumi.Input<string> }) {
    super(markerProvider, name, args, {}, "conformance", "Marker");
  }
}

class Greeting extends pulumi.ComponentResource {
  readonly text: pulumi.Output<string>;
  constructor(name: string, args: { who: pulumi.Input<string> }, opts?: pulumi.ComponentResourceOptions) {
    super("conformance:index:Greeting", name, {}, opts);
    const echo = new local.Command(
      `${name}-echo`,
      { create: pulumi.interpolate`echo hello ${args.who}` },
      { parent: this },
    );
    this.text = echo.stdout;
    this.registerOutputs({ text: this.text });
  }
}

export function basics(): Record<string, unknown> {
  const config = new pulumi.Config();
  const revision = config.get("revision") ?? "1";
  const greeting = new Greeting("greeting", { who: "conformance" });
  const marker = new Marker("marker", { path: config.require("markerPath"), content: "as declared" });
  const first = new local.Command("first", { create: `echo first-${revision}` });
  const second = new local.Command("second", { create: `echo second-${revision}` });
  return {
    text: greeting.text,
    number: 42,
    object: { list: [1, "two"], nested: { yes: true } },
    password: config.requireSecret("password"),
    marker: marker.content,
    first: first.stdout,
    second: second.stdout,
  };
}
