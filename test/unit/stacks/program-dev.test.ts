// The dev stack's program under the mocked engine (test/unit/stacks/program-harness.ts), and what its
// topology's application (the guestbook of platforms/dev.yaml `apps[]`) waits for.
import { describeProgram, type Run } from "./program-harness";

describeProgram("dev", undefined, (run: () => Run) => {
  const named = (name: string) => {
    const r = run().resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}`);
    return r;
  };

  it("declares the guestbook's domain after the whole platform: node host, agent and district first", () => {
    const domain = named("geartrain-apps-domain-demo");
    const deps = domain.dependencies.map((u) => u.slice(u.lastIndexOf("::") + 2));
    for (const needed of [
      "geartrain-node-local-check", // the node host passed its check
      "geartrain-node-local-agent-daemon", // the node's agent runs
      "geartrain-node-local-sshd-daemon", // its gear git sshd, where the code is pushed
      "geartrain-dist-dev-small-node-local", // the node is in its district
      "geartrain-broker-local-service-daemon",
    ])
      expect({ needed, found: deps.some((d) => d.startsWith(needed)) }).toEqual({ needed, found: true });
  });

  it("makes the app in its domain, then pushes quickstarts/guestbook to the app's git URL", () => {
    const app = named("geartrain-apps-demo-guestbook-app");
    expect(app.inputs).toMatchObject({
      name: "guestbook",
      webCartridge: "nodejs-20",
      cartridges: ["postgresql-15"],
      gearProfile: "small",
    });
    expect(app.dependencies).toContain(domainUrn(run()));
    const source = named("geartrain-apps-demo-guestbook-source");
    expect(source.dependencies).toContain(
      "urn:pulumi:dev::geartrain::geartrain:apps:Application$pulumi-nodejs:dynamic/geartrain:BrokerApp::geartrain-apps-demo-guestbook-app",
    );
    expect(String(source.inputs.directory)).toMatch(/\/quickstarts\/guestbook$/);
    expect(source.inputs.sourceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(source.inputs.sshHost).toEqual({
      address: "127.0.0.1",
      port: 10022,
      hostKey: expect.any(String),
    });
    // the admin's credentials reach the broker resources as a secret only, never in plain inputs
    expect(source.additionalSecretOutputs).toContain("connection");
  });
});

function domainUrn(run: Run): string {
  const r = run.resources.find((x) => x.name === "geartrain-apps-domain-demo")!;
  return `urn:pulumi:dev::geartrain::geartrain:apps:PlatformApps$${r.type}::${r.name}`;
}
