// PlatformApps' pure plan (components/platform-apps/resolve.ts): names, one domain per distinct name, bad
// input refused naming apps[i].<field>, and the node whose gear git sshd serves a git URL.
import { gitSshHostOf, planApps, type PlatformAppSpec } from "../../../../components/platform-apps/resolve";
import type { PlatformNodeOutput } from "../../../../components/platform";

const guestbook: PlatformAppSpec = {
  name: "guestbook",
  domain: "demo",
  webCartridge: "nodejs-20",
  cartridges: ["postgresql-15"],
  source: "quickstarts/guestbook",
};

describe("planApps", () => {
  it("names each resource after the component, one BrokerDomain per distinct domain", () => {
    const plan = planApps(
      "gt-apps",
      [guestbook, { ...guestbook, name: "shop", source: undefined }],
      "/srv/co",
    );
    expect(plan.domains).toEqual([{ name: "demo", resource: "gt-apps-domain-demo" }]);
    expect(plan.apps.map((a) => [a.resource, a.key, a.domainResource, a.source])).toEqual([
      [
        "gt-apps-demo-guestbook",
        "guestbook-demo",
        "gt-apps-domain-demo",
        { resource: "gt-apps-demo-guestbook-source", directory: "/srv/co/quickstarts/guestbook" },
      ],
      ["gt-apps-demo-shop", "shop-demo", "gt-apps-domain-demo", undefined],
    ]);
  });

  it.each([
    ["apps[1].name", [guestbook, { ...guestbook, name: "my-app" }]],
    ["apps[0].domain", [{ ...guestbook, domain: "Demo" }]],
    ["apps[0].webCartridge", [{ ...guestbook, webCartridge: "nodejs" }]],
    ["apps[0].cartridges[0]", [{ ...guestbook, cartridges: ["pg 15"] }]],
    ["apps[0].gearProfile", [{ ...guestbook, gearProfile: "huge" }]],
    ["apps[1].name", [guestbook, guestbook]],
    ["apps[0].source", [{ ...guestbook, source: "../elsewhere" }]],
    ["apps[0].source", [{ ...guestbook, source: "/etc" }]],
  ])("refuses bad input naming %s", (field, apps) => {
    expect(() => planApps("gt-apps", apps as PlatformAppSpec[], "/srv/co")).toThrow(
      new RegExp(`^invalid ${field.replace(/[[\].]/g, "\\$&")}: `),
    );
  });
});

describe("gitSshHostOf", () => {
  const node: PlatformNodeOutput = {
    name: "local",
    address: "127.0.0.1",
    publicHostname: "local.apps.dev.geartrain.test",
    district: "dev-small",
    profile: "small",
    httpEndpoint: "http://127.0.0.1:10080",
    httpsEndpoint: "https://127.0.0.1:10443",
    gitSsh: { host: "127.0.0.1", port: 10022, hostKey: "ssh-ed25519 AAAA" },
  };
  const url =
    "ssh://0123456789abcdef0123456789abcdef@local.apps.dev.geartrain.test:10022/~/git/guestbook.git/";
  it("finds the node by its public name and gives its gear git sshd", () => {
    expect(gitSshHostOf(url, [node])).toEqual({
      address: "127.0.0.1",
      port: 10022,
      hostKey: "ssh-ed25519 AAAA",
    });
    expect(() => gitSshHostOf(url.replace("local.", "other."), [node])).toThrow(
      /none of the platform's nodes/,
    );
    expect(() => gitSshHostOf("http://x/", [node])).toThrow(/not a gear's git URL/);
  });
});
