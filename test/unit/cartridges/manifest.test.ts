import * as YAML from "yaml";
import {
  CartridgeError,
  cartridgeIdent,
  cartridgeVariable,
  endpointProtocols,
  formatProblem,
  hasPrivateAddress,
  manifestForVersion,
  parseManifest,
  REQUIRED_KEYS,
  softwareVersions,
  type Manifest,
} from "../../../cartridges/manifest";
import { fixtureManifest, fixtureText, linesOf, problemsOf, textProblems, type Raw } from "./helpers";

/** The minimal fixture plus one endpoint, as a base to break. */
function withEndpoint(endpoint: Raw): Raw {
  return { ...fixtureManifest("minimal"), Endpoints: [endpoint] };
}

const FULL_ENDPOINT = { "Private-IP-Name": "IP", "Private-Port-Name": "PORT", "Private-Port": 8080 };

describe("valid manifests", () => {
  it("minimal: the five required keys, with defaults applied", () => {
    const m = parseManifest(fixtureText("minimal"), "manifest.yml");
    expect(m).toEqual({
      Name: "minimal",
      "Cartridge-Short-Name": "MINIMAL",
      "Cartridge-Version": "0.0.1",
      "Cartridge-Vendor": "geartrain",
      Version: "1.0",
      Categories: [],
      Provides: [],
      Requires: [],
      Conflicts: [],
      Suggests: [],
      "Native-Requires": [],
      Obsolete: false,
      Scaling: { Min: 1, Max: -1, Multiplier: 1, Required: false },
      Endpoints: [],
      "Additional-Control-Actions": [],
      "Install-Build-Required": false,
    });
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m.Scaling)).toBe(true);
  });

  it("full: every key", () => {
    const m = parseManifest(fixtureText("full"), "manifest.yml");
    expect(m.Name).toBe("example");
    expect(m.Versions).toEqual(["1.1", "1.0"]);
    expect(m.Endpoints).toHaveLength(2);
    expect(m.Endpoints[0]!.Mappings).toEqual([
      { Frontend: "", Backend: "", Options: { websocket: true } },
      { Frontend: "/health", Backend: "", Options: { health: true } },
    ]);
    expect(m.Subscribes?.["set-db-connection-info"]).toEqual({
      Type: "NET_TCP:db:connection-info",
      Required: false,
    });
    expect(m.Components?.web_proxy?.Scaling).toEqual({ Min: 1, Max: 1, Multiplier: 1, Required: false });
    expect(m["Help-Topics"]).toEqual({ "Developer Center": "https://example.com/docs" });
    // Every key of the schema is used by the full fixture, so it really is "full".
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const schema = require("../../../cartridges/schema/manifest.schema.json") as { properties: object };
    expect(Object.keys(fixtureManifest("full")).sort()).toEqual(Object.keys(schema.properties).sort());
  });

  it("parseManifest accepts a manifest object written out as YAML, and applies the defaults", () => {
    const raw = fixtureManifest("minimal");
    const m = parseManifest(YAML.stringify(raw), "manifest.yml");
    expect(m.Endpoints).toEqual([]);
  });

  it("accepts endpoints that share a Private-IP-Name", () => {
    const m = {
      ...fixtureManifest("minimal"),
      Endpoints: [
        FULL_ENDPOINT,
        { ...FULL_ENDPOINT, "Private-Port-Name": "ADMIN_PORT", "Private-Port": 9000 },
      ],
    };
    expect(linesOf(m)).toEqual([]);
  });

  it("accepts Min 0 for the external category and Max -1 with any Min", () => {
    expect(
      linesOf({ ...fixtureManifest("minimal"), Categories: ["external"], Scaling: { Min: 0, Max: 0 } }),
    ).toEqual([]);
    expect(linesOf({ ...fixtureManifest("minimal"), Scaling: { Min: 5, Max: -1 } })).toEqual([]);
  });
});

describe("helpers for the node side", () => {
  const full = () => parseManifest(fixtureText("full"), "manifest.yml");

  it("softwareVersions lists Versions and Version once each", () => {
    expect(softwareVersions(full())).toEqual(["1.1", "1.0"]);
    expect(softwareVersions({ Version: "2", Versions: ["1"] })).toEqual(["1", "2"]);
    expect(softwareVersions({ Version: "2" })).toEqual(["2"]);
  });

  it("manifestForVersion merges that version's overrides", () => {
    const v10 = manifestForVersion(full(), "1.0");
    expect(v10.Version).toBe("1.0");
    expect(v10["Display-Name"]).toBe("Example 1.0");
    expect(v10.Provides).toEqual(["example-1.0", "example"]);
    expect(v10.Endpoints).toHaveLength(1);
    expect(v10.Categories).toEqual(["service", "web_framework", "example"]); // not overridden
    expect(Object.isFrozen(v10)).toBe(true);
    expect(manifestForVersion(full())["Display-Name"]).toBe("Example 1.1");
    expect(() => manifestForVersion(full(), "2.0")).toThrow(
      "cartridge example has no software version 2.0 (it has 1.1, 1.0)",
    );
  });

  it("cartridgeIdent and cartridgeVariable follow OpenShift's naming", () => {
    expect(cartridgeIdent(full())).toBe("geartrain:example:1.1:0.1.2");
    expect(cartridgeIdent(full(), "1.0")).toBe("geartrain:example:1.0:0.1.2");
    expect(cartridgeVariable(full(), "PORT")).toBe("GEARTRAIN_EXAMPLE_PORT");
    expect(cartridgeVariable(full(), "PORT", "OPENSHIFT_")).toBe("OPENSHIFT_EXAMPLE_PORT");
  });

  it("endpoint helpers", () => {
    const [web, admin] = full().Endpoints as Manifest["Endpoints"];
    expect(hasPrivateAddress(web!)).toBe(true);
    expect(hasPrivateAddress({ Description: "none" })).toBe(false);
    expect(endpointProtocols(web!)).toEqual(["http", "ws"]);
    expect(endpointProtocols({ ...admin!, Protocols: undefined })).toEqual(["tcp"]);
    expect(endpointProtocols({ Mappings: [{ Frontend: "" }] })).toEqual(["http"]);
  });
});

describe("required keys", () => {
  it.each(REQUIRED_KEYS.map((key) => [key]))("%s missing", (key) => {
    const m = fixtureManifest("minimal");
    delete m[key];
    const problems = problemsOf(m);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe(key);
    expect(problems[0]!.message).toMatch(
      new RegExp(`^missing; expected .+ \\(add it, e\\.g\\. ${key}: .+\\)$`),
    );
  });

  it("names the example value in the fix", () => {
    const m = fixtureManifest("minimal");
    delete m.Version;
    expect(linesOf(m)).toEqual([
      `Version: missing; expected a quoted version number such as '5.4' or '0.0.28' (digits separated by dots) (add it, e.g. Version: "5.4")`,
    ]);
  });
});

describe("wrong types and values", () => {
  it.each([
    [
      "Name",
      5,
      /^Name: expected a cartridge name: .*, got the number 5 \(quote it so YAML reads it as text, e\.g\. Name: php\)$/,
    ],
    [
      "Version",
      5.4,
      /^Version: expected a quoted version number .*, got the number 5\.4 \(quote it so YAML reads it as text, e\.g\. Version: "5\.4"\)$/,
    ],
    [
      "Cartridge-Version",
      "v1",
      /^Cartridge-Version: expected a quoted version number .*, got "v1" \(e\.g\. Cartridge-Version: "5\.4"\)$/,
    ],
    [
      "Versions",
      "1.0",
      /^Versions: expected a list of quoted version numbers.*, got "1\.0" \(write it as a list, e\.g\. Versions: \["5\.4", "5\.3"\]\)$/,
    ],
    ["Versions", [], /^Versions: expected a list of quoted version numbers/],
    [
      "Provides",
      "php",
      /^Provides: expected a list of feature names.*\(write it as a list, e\.g\. Provides: \[php-5\.4, php\]\)$/,
    ],
    ["Categories", [1], /^Categories\[0\]: expected a category name.*, got the number 1/],
    [
      "Categories",
      ["web", "web"],
      /^Categories: expected no duplicates, got items 0 and 1 both "web" \(remove one\)$/,
    ],
    [
      "Install-Build-Required",
      "yes",
      /^Install-Build-Required: expected true or false, got "yes" \(write true or false, without quotes\)$/,
    ],
    [
      "Scaling",
      3,
      /^Scaling: expected a mapping \{ Min, Max, Multiplier, Required \}, got the number 3 \(e\.g\. Scaling: \{ Min: 1, Max: -1 \}\)$/,
    ],
    [
      "Scaling",
      { Min: 1, Max: -2 },
      /^Scaling\.Max: expected an integer >= 1, or -1 for no limit, got the number -2/,
    ],
    ["Scaling", { Multiplier: 0 }, /^Scaling\.Multiplier: expected an integer >= 1, got the number 0/],
    ["Scaling", { Min: 1.5 }, /^Scaling\.Min: expected an integer >= 0, got the number 1\.5/],
    ["Endpoints", {}, /^Endpoints: expected a list of endpoints.*, got an object/],
    ["Help-Topics", ["x"], /^Help-Topics: expected a mapping of help topic titles to URLs.*, got a list/],
    [
      "Help-Topics",
      { Docs: "docs.example.com" },
      /^Help-Topics\.Docs: expected an absolute URL starting with http:\/\/ or https:\/\//,
    ],
    [
      "Publishes",
      { "get-url": "NET_TCP:x" },
      /^Publishes\.get-url: expected a connector \{ Type, Required \}, got "NET_TCP:x"/,
    ],
    [
      "Publishes",
      { Get_Url: { Type: "NET_TCP:x" } },
      /^Publishes\.Get_Url: expected an event name: .* as a key, got "Get_Url" \(rename it\)$/,
    ],
    [
      "Subscribes",
      { "set-db": { Type: "mysql" } },
      /^Subscribes\.set-db\.Type: expected a connection type such as 'NET_TCP:db:mysql'/,
    ],
    [
      "Subscribes",
      { "set-db": { Required: true } },
      /^Subscribes\.set-db\.Type: missing; expected a connection type .* \(add it, e\.g\. Type: NET_TCP:db:connection-info\)$/,
    ],
    [
      "Cart-Data",
      [{ Key: "X", Type: "env" }],
      /^Cart-Data\[0\]\.Type: expected environment or cart_data, got "env"/,
    ],
    [
      "Cartridge-Short-Name",
      "php",
      /^Cartridge-Short-Name: expected an upper-case short name: .*, got "php" \(e\.g\. Cartridge-Short-Name: PHP\)$/,
    ],
    ["Cartridge-Short-Name", "MY-CART", /^Cartridge-Short-Name: expected an upper-case short name/],
    ["Cartridge-Short-Name", "MY_CART", /^Cartridge-Short-Name: expected an upper-case short name/],
    ["Name", "PHP", /^Name: expected a cartridge name/],
    ["Name", "a".repeat(33), /^Name: expected a cartridge name: 1 to 32/],
    ["Cartridge-Vendor", "Red Hat", /^Cartridge-Vendor: expected a vendor name/],
    [
      "Source-Url",
      "ftp://example.com/x.tgz",
      /^Source-Url: expected an absolute URL with scheme https, http, git, ssh or file/,
    ],
    [
      "Additional-Control-Actions",
      ["Thread Dump"],
      /^Additional-Control-Actions\[0\]: expected an action name/,
    ],
    ["Group-Overrides", [{ components: [] }], /^Group-Overrides\[0\]\.components: expected at least 1 item/],
    [
      "Version-Overrides",
      { "1.0": { "Display-Name": "" } },
      /^Version-Overrides\["1\.0"\]\.Display-Name: expected a single line of text, 1 to 128 characters, got "" \(e\.g\. Display-Name: PHP 5\.4\)$/,
    ],
    ["Display-Name", "two\nlines", /^Display-Name: expected a single line of text/],
  ])("%s: %j", (key, value, expected) => {
    const lines = linesOf({ ...fixtureManifest("minimal"), [key]: value });
    expect(lines).toEqual([expect.stringMatching(expected)]);
  });

  it("a key given as a number in YAML is reported with a fix to quote it", () => {
    expect(
      textProblems(
        fixtureText("minimal") + "Versions: ['1.0']\nVersion-Overrides:\n  1.10: {Display-Name: X}\n",
      ),
    ).toEqual([
      `manifest.yml: Version-Overrides["1.10"]: expected a text key, got the number 1.10 (quote it: '1.10':)`,
      `manifest.yml: Version-Overrides["1.10"]: expected a software version listed in Version or Versions (1.0), got "1.10" (add '1.10' to Versions or remove this override)`,
    ]);
  });
});

describe("endpoints", () => {
  const trio = ["Private-IP-Name", "Private-Port-Name", "Private-Port"] as const;
  const subsets = [[0], [1], [2], [0, 1], [0, 2], [1, 2]].map((ix) => ix.map((i) => trio[i]!));

  it.each(subsets.map((s) => [s.join(" + "), s]))(
    "only %s: every missing one of the three is reported",
    (_name, keys) => {
      const endpoint = Object.fromEntries(keys.map((k) => [k, FULL_ENDPOINT[k]]));
      const lines = linesOf(withEndpoint(endpoint));
      const missing = trio.filter((k) => !keys.includes(k));
      expect(lines).toEqual(
        missing.map((k) =>
          expect.stringMatching(
            new RegExp(
              `^Endpoints\\[0\\]\\.${k}: missing; expected it because ${keys.join(" and ")} (is|are) set: an endpoint with any of Private-IP-Name, Private-Port-Name, Private-Port needs all three \\(add it, e\\.g\\. ${k}: \\w+\\)$`,
            ),
          ),
        ),
      );
    },
  );

  it.each([
    ["Public-Port-Name", "PROXY_PORT"],
    ["WebSocket-Port-Name", "WS_PORT"],
    ["WebSocket-Port", 8000],
    ["Mappings", [{ Frontend: "" }]],
  ])("%s without the private address", (key, value) => {
    const lines = linesOf(withEndpoint({ [key]: value }));
    expect(lines).toContain(
      `Endpoints[0].${key}: expected only on an endpoint with Private-IP-Name, Private-Port-Name and Private-Port, which ${key} refers to (add those three to this endpoint, or remove ${key})`,
    );
  });

  it.each([
    ["WebSocket-Port-Name", "WS_PORT", "WebSocket-Port"],
    ["WebSocket-Port", 8000, "WebSocket-Port-Name"],
  ])("%s without its partner", (key, value, missing) => {
    expect(linesOf(withEndpoint({ ...FULL_ENDPOINT, [key]: value }))).toEqual([
      expect.stringMatching(
        new RegExp(`^Endpoints\\[0\\]\\.${missing}: missing; expected it because ${key} is set`),
      ),
    ]);
  });

  it.each([
    [
      { "Private-Port": 0 },
      /^Endpoints\[0\]\.Private-Port: expected a TCP port: an integer from 1 to 65535, got the number 0 \(e\.g\. Private-Port: 8080\)$/,
    ],
    [
      { "Private-Port": 65536 },
      /^Endpoints\[0\]\.Private-Port: expected a TCP port: .*, got the number 65536/,
    ],
    [
      { "Private-Port": 80.5 },
      /^Endpoints\[0\]\.Private-Port: expected a TCP port: .*, got the number 80\.5/,
    ],
    [
      { "Private-Port": "8080" },
      /^Endpoints\[0\]\.Private-Port: expected a TCP port: .*, got "8080" \(write the number without quotes, e\.g\. Private-Port: 8080\)$/,
    ],
    [
      { "WebSocket-Port-Name": "WS", "WebSocket-Port": 70000 },
      /^Endpoints\[0\]\.WebSocket-Port: expected a TCP port/,
    ],
    [
      { "Private-IP-Name": "ip" },
      /^Endpoints\[0\]\.Private-IP-Name: expected an upper-case variable name: .* \(e\.g\. Private-IP-Name: IP\)$/,
    ],
    [
      { "Private-Port-Name": "HTTP-PORT" },
      /^Endpoints\[0\]\.Private-Port-Name: expected an upper-case variable name/,
    ],
    [
      { "Public-Port-Name": "1PORT" },
      /^Endpoints\[0\]\.Public-Port-Name: expected an upper-case variable name/,
    ],
    [
      { "Private-Port-Name": "DIR" },
      /^Endpoints\[0\]\.Private-Port-Name: expected a name other than DIR and IDENT, got "DIR" \(the node sets GEARTRAIN_MINIMAL_DIR itself; rename it\)$/,
    ],
    [
      { "Public-Port-Name": "IDENT" },
      /^Endpoints\[0\]\.Public-Port-Name: expected a name other than DIR and IDENT/,
    ],
    [
      { "Public-Port-Name": "PORT" },
      /^Endpoints\[0\]\.Public-Port-Name: expected a unique name, got "PORT", already the Private-Port-Name of Endpoints\[0\]; both would set GEARTRAIN_MINIMAL_PORT \(rename one\)$/,
    ],
    [
      { "Private-Port-Name": "IP" },
      /^Endpoints\[0\]\.Private-Port-Name: expected a unique name, got "IP", already the Private-IP-Name of Endpoints\[0\]/,
    ],
    [
      { Protocols: ["http", "gopher"] },
      /^Endpoints\[0\]\.Protocols\[1\]: expected one of http, https, ws, wss, tcp, got "gopher" \(e\.g\. http\)$/,
    ],
    [{ Options: { primary: "yes" } }, /^Endpoints\[0\]\.Options\.primary: expected true or false, got "yes"/],
    [
      { Options: { primay: true } },
      /^Endpoints\[0\]\.Options\.primay: unknown key; expected a known key here \(did you mean "primary"\? rename it\)$/,
    ],
    [
      { "Private-Port-Nmae": "X" },
      /^Endpoints\[0\]\.Private-Port-Nmae: unknown key; expected a known key here \(did you mean "Private-Port-Name"\? rename it\)$/,
    ],
    [
      { Mappings: [{ Backend: "/" }] },
      /^Endpoints\[0\]\.Mappings\[0\]\.Frontend: missing; expected a path: '' for the root, or starting with \/ .* \(add it, e\.g\. Frontend: \/health\)$/,
    ],
    [
      { Mappings: [{ Frontend: "health" }] },
      /^Endpoints\[0\]\.Mappings\[0\]\.Frontend: expected a path: '' for the root, or starting with \/.*, got "health"/,
    ],
    [{ Mappings: [{ Frontend: "/a b" }] }, /^Endpoints\[0\]\.Mappings\[0\]\.Frontend: expected a path/],
    [
      { Mappings: [{ Frontend: "/", Options: { websocket: true, gone: true } }] },
      /^Endpoints\[0\]\.Mappings\[0\]\.Options: expected at most one route option set to true, got websocket and gone \(they conflict; .*\)$/,
    ],
    [
      { Mappings: [{ Frontend: "/", Options: { ssl: true } }] },
      /^Endpoints\[0\]\.Mappings\[0\]\.Options\.ssl: unknown key; expected a known key here \(remove it or fix its spelling; known keys here: websocket, health, gone, forbidden, noproxy, redirect, file, tohttps\)$/,
    ],
    [
      { Mappings: [{ Frontend: "/x" }, { Frontend: "/x" }] },
      /^Endpoints\[0\]\.Mappings\[1\]\.Frontend: expected a Frontend path no other route uses, got "\/x", already routed by Endpoints\[0\]\.Mappings\[0\] \(change the path or remove one route\)$/,
    ],
  ])("%j", (change, expected) => {
    expect(linesOf(withEndpoint({ ...FULL_ENDPOINT, ...change }))).toEqual([expect.stringMatching(expected)]);
  });

  it("names used twice across endpoints", () => {
    const m = {
      ...fixtureManifest("minimal"),
      Endpoints: [
        { ...FULL_ENDPOINT, "Public-Port-Name": "PROXY_PORT", Options: { primary: true } },
        { ...FULL_ENDPOINT, "Private-Port": 9000, Options: { primary: true } },
        { ...FULL_ENDPOINT, "Private-IP-Name": "IP2", "Private-Port-Name": "PROXY_PORT" },
        { ...FULL_ENDPOINT, "Private-Port-Name": "OTHER_PORT", Mappings: [{ Frontend: "" }] },
      ],
    };
    expect(linesOf(m)).toEqual([
      `Endpoints[1].Private-Port-Name: expected a unique name, got "PORT", already the Private-Port-Name of Endpoints[0]; both would set GEARTRAIN_MINIMAL_PORT (rename one)`,
      `Endpoints[1].Options.primary: expected at most one endpoint with primary: true, got a second one (Endpoints[0] is already primary; remove primary from one of them)`,
      `Endpoints[2].Private-Port-Name: expected a unique name, got "PROXY_PORT", already the Public-Port-Name of Endpoints[0]; both would set GEARTRAIN_MINIMAL_PROXY_PORT (rename one)`,
      `Endpoints[3].Private-Port: expected a distinct Private-IP-Name and Private-Port pair, got IP:8080, already bound by Endpoints[0] (change the port or use another Private-IP-Name)`,
    ]);
  });

  // Only two Private-IP-Names may share a name; a Private-IP-Name that reuses an earlier endpoint's port name
  // would set the same variable as that port.
  it.each([
    ["Private-Port-Name", {}],
    ["Public-Port-Name", { "Public-Port-Name": "PORT2" }],
    ["WebSocket-Port-Name", { "WebSocket-Port-Name": "PORT2", "WebSocket-Port": 8000 }],
  ])("a Private-IP-Name reusing an earlier %s", (key, first) => {
    const earlier = { ...FULL_ENDPOINT, "Private-Port-Name": "PORT1", ...first };
    const name = key === "Private-Port-Name" ? "PORT1" : "PORT2";
    const m = {
      ...fixtureManifest("minimal"),
      Endpoints: [earlier, { ...FULL_ENDPOINT, "Private-IP-Name": name, "Private-Port-Name": "OTHER_PORT" }],
    };
    expect(linesOf(m)).toEqual([
      `Endpoints[1].Private-IP-Name: expected a unique name, got "${name}", already the ${key} of Endpoints[0]; both would set GEARTRAIN_MINIMAL_${name} (rename one)`,
    ]);
  });

  it("checks the endpoints of every version override, under its own path", () => {
    const m = {
      ...fixtureManifest("minimal"),
      Versions: ["1.0", "2.0"],
      Endpoints: [FULL_ENDPOINT],
      "Version-Overrides": { "2.0": { Endpoints: [{ "Private-IP-Name": "IP" }] } },
    };
    expect(linesOf(m)).toEqual([
      expect.stringMatching(
        /^Version-Overrides\["2\.0"\]\.Endpoints\[0\]\.Private-Port-Name: missing; expected it because Private-IP-Name is set/,
      ),
      expect.stringMatching(
        /^Version-Overrides\["2\.0"\]\.Endpoints\[0\]\.Private-Port: missing; expected it because Private-IP-Name is set/,
      ),
    ]);
  });
});

describe("other cross-key rules", () => {
  const minimal = () => fixtureManifest("minimal");

  it.each([
    [
      { Scaling: { Min: 3, Max: 2 } },
      "Scaling: expected Min <= Max (Max -1 means no limit), got Min 3 and Max 2 (raise Max, lower Min, or set Max: -1)",
    ],
    [
      { Scaling: { Min: 0 } },
      "Scaling.Min: expected Min >= 1 (0 is only for cartridges in the external category), got 0 (set Min: 1, or add external to Categories)",
    ],
    [
      { Components: { proxy: { Scaling: { Min: 2, Max: 1 } } } },
      "Components.proxy.Scaling: expected Min <= Max (Max -1 means no limit), got Min 2 and Max 1 (raise Max, lower Min, or set Max: -1)",
    ],
    [
      { Versions: ["1.1", "1.2"] },
      "Version: expected one of the Versions (1.1, 1.2), got \"1.0\" (add '1.0' to Versions or set Version to one of them)",
    ],
    [
      { "Version-Overrides": { "2.0": { "Display-Name": "X" } } },
      'Version-Overrides["2.0"]: expected a software version listed in Version or Versions (1.0), got "2.0" (add \'2.0\' to Versions or remove this override)',
    ],
    [
      { "Version-Overrides": { "1.0": { Name: "other" } } },
      'Version-Overrides["1.0"].Name: unknown key; expected a key a software version may override (Name is the same for every version; move it to the top level or remove it)',
    ],
    [
      { "Source-Md5": "835ed97b00a61f0dae2e2b7a75c672db" },
      "Source-Md5: expected only together with Source-Url (add Source-Url, or remove Source-Md5)",
    ],
    [
      { Provides: ["db"], Requires: ["db"] },
      'Requires[0]: expected a feature of another cartridge, got "db", which this cartridge provides itself (remove it from Requires)',
    ],
    [
      { Conflicts: ["minimal"] },
      'Conflicts[0]: expected a feature of another cartridge, got "minimal", which this cartridge provides itself (remove it from Conflicts)',
    ],
    [
      { Requires: ["cron"], Conflicts: ["cron"] },
      'Conflicts[0]: expected a feature this cartridge does not require, got "cron", also listed in Requires (remove it from one of the two)',
    ],
    [
      { "Additional-Control-Actions": ["threaddump", "restart"] },
      'Additional-Control-Actions[1]: expected an optional action, got "restart", which bin/control always receives (remove it from the list)',
    ],
  ])("%j", (change, expected) => {
    expect(linesOf({ ...minimal(), ...change })).toEqual([expected]);
  });
});

describe("reserved names", () => {
  it.each([
    [
      "Name",
      "app-root",
      `Name: expected a cartridge name other than the reserved app-root and git, got "app-root" (the gear already has ~/app-root; rename the cartridge)`,
    ],
    [
      "Name",
      "git",
      `Name: expected a cartridge name other than the reserved app-root and git, got "git" (the gear already has ~/git; rename the cartridge)`,
    ],
    [
      "Cartridge-Vendor",
      "redhat",
      `Cartridge-Vendor: expected a vendor name of your own, got the reserved "redhat" (use your organisation's name, e.g. Cartridge-Vendor: mycompany)`,
    ],
    [
      "Cartridge-Short-Name",
      "APP",
      `Cartridge-Short-Name: expected a short name the platform does not use, got the reserved "APP" (its variables would mix with the gear's own GEARTRAIN_APP_* variables; e.g. Cartridge-Short-Name: APPCART)`,
    ],
    [
      "Cartridge-Short-Name",
      "GEAR",
      `Cartridge-Short-Name: expected a short name the platform does not use, got the reserved "GEAR" (its variables would mix with the gear's own GEARTRAIN_GEAR_* variables; e.g. Cartridge-Short-Name: GEARCART)`,
    ],
  ])("%s: %s", (key, value, expected) => {
    expect(linesOf({ ...fixtureManifest("minimal"), [key]: value })).toEqual([expected]);
  });
});

describe("unknown keys", () => {
  it.each([
    ["Cartrige-Version", "Cartridge-Version"],
    ["name", "Name"],
    ["Display-name", "Display-Name"],
    ["Obsoletes", "Obsolete"],
    ["Endpoint", "Endpoints"],
    ["Install-Build-Requried", "Install-Build-Required"],
  ])("%s: did you mean %s?", (typo, known) => {
    const m = { ...fixtureManifest("minimal"), [typo]: "x" };
    expect(linesOf(m)).toEqual([
      `${typo}: unknown key; expected a known manifest key (did you mean "${known}"? rename it)`,
    ]);
  });

  it("a key close to nothing known points to the docs", () => {
    expect(linesOf({ ...fixtureManifest("minimal"), "Requires-Memory": "512M" })).toEqual([
      "Requires-Memory: unknown key; expected a known manifest key (remove it or fix its spelling; see docs/cartridge-authoring.md for the keys)",
    ]);
  });
});

describe("YAML", () => {
  it("syntax errors carry line and column", () => {
    const text = "Name: php\nCartridge-Short-Name: PHP\nVersions: ['5.4'\nVersion: '5.4'\n";
    const { problems } = (() => {
      try {
        parseManifest(text, "php/metadata/manifest.yml");
      } catch (err) {
        return err as CartridgeError;
      }
      throw new Error("expected a CartridgeError");
    })();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      file: "php/metadata/manifest.yml",
      path: "line 4, column 1",
      line: 4,
      column: 1,
    });
    expect(formatProblem(problems[0]!)).toMatch(
      /^php\/metadata\/manifest\.yml: line 4, column 1: expected valid YAML, got: Flow sequence in block collection must be sufficiently indented and end with a \] \(fix the YAML syntax there; .*\)$/,
    );
  });

  it("duplicate keys are an error with the line of the second one", () => {
    expect(textProblems(fixtureText("minimal") + "Name: again\n")).toEqual([
      expect.stringMatching(
        /^manifest\.yml: line 7, column 1: expected valid YAML, got: Map keys must be unique/,
      ),
    ]);
  });

  it("more than one document is an error", () => {
    expect(textProblems(fixtureText("minimal") + "---\nName: x\n")).toEqual([
      expect.stringMatching(
        /^manifest\.yml: line 7, column 1: expected valid YAML, got: Source contains multiple documents/,
      ),
    ]);
  });

  it("an empty file and a list are not manifests", () => {
    expect(textProblems("# nothing\n")).toEqual([
      "manifest.yml: expected a YAML mapping of manifest keys, got an empty file (start with Name: and Cartridge-Short-Name:)",
    ]);
    expect(textProblems("- Name: php\n")).toEqual([
      "manifest.yml: expected a YAML mapping of manifest keys (Name, Cartridge-Short-Name, Cartridge-Version, Cartridge-Vendor, Version, ...), got a list (write the manifest as `Key: value` lines, starting with Name: and Cartridge-Short-Name:)",
    ]);
  });

  it("problems other than syntax carry the line of their key", () => {
    const text = [
      "Name: php",
      "Cartridge-Short-Name: PHP",
      "Cartridge-Version: '1'",
      "Cartridge-Vendor: me",
      "Version: '1'",
      "Endpoints:",
      "  - Private-IP-Name: IP",
      "    Private-Port-Name: PORT",
      "    Private-Port: 99999",
      "",
    ].join("\n");
    const problems = (() => {
      try {
        parseManifest(text, "m.yml");
      } catch (err) {
        return (err as CartridgeError).problems;
      }
      throw new Error("expected a CartridgeError");
    })();
    expect(problems).toEqual([
      expect.objectContaining({ path: "Endpoints[0].Private-Port", line: 9, column: 5 }),
    ]);
    const missing = YAML.parse(text);
    delete missing.Version;
    // A missing key is placed at its parent (the document start has no line).
    expect(problemsOf(missing).find((p) => p.path === "Version")?.line).toBeUndefined();
  });

  it("YAML 1.1 booleans are text: yes is not true", () => {
    expect(textProblems(fixtureText("minimal") + "Obsolete: yes\n")).toEqual([
      `manifest.yml: Obsolete: expected true or false, got "yes" (write true or false, without quotes)`,
    ]);
  });
});

describe("several problems at once", () => {
  it("the broken fixture: every problem in file order (missing keys first), one line each", () => {
    expect(textProblems(fixtureText("broken"))).toEqual([
      `manifest.yml: Version: missing; expected a quoted version number such as '5.4' or '0.0.28' (digits separated by dots) (add it, e.g. Version: "5.4")`,
      `manifest.yml: Name: expected a cartridge name other than the reserved app-root and git, got "git" (the gear already has ~/git; rename the cartridge)`,
      `manifest.yml: Cartridge-Short-Name: expected an upper-case short name: a letter A-Z, then up to 31 letters A-Z or digits, no '-' or '_', got "broken-name" (e.g. Cartridge-Short-Name: PHP)`,
      `manifest.yml: Cartridge-Version: expected a quoted version number such as '5.4' or '0.0.28' (digits separated by dots), got the number 0.1 (quote it so YAML reads it as text, e.g. Cartridge-Version: "5.4")`,
      `manifest.yml: Cartridge-Vendor: expected a vendor name of your own, got the reserved "redhat" (use your organisation's name, e.g. Cartridge-Vendor: mycompany)`,
      `manifest.yml: Cartrige-Vendor: unknown key; expected a known manifest key (did you mean "Cartridge-Vendor"? rename it)`,
      `manifest.yml: Endpoints[0].Private-Port-Name: missing; expected it because Private-IP-Name and Private-Port are set: an endpoint with any of Private-IP-Name, Private-Port-Name, Private-Port needs all three (add it, e.g. Private-Port-Name: PORT)`,
    ]);
  });

  it("CartridgeError lists every problem, one per line", () => {
    expect(() => parseManifest(fixtureText("broken"), "broken.yml")).toThrow(CartridgeError);
    try {
      parseManifest(fixtureText("broken"), "broken.yml");
    } catch (err) {
      const lines = (err as Error).message.split("\n");
      expect(lines[0]).toBe("Invalid cartridge (7 problems):");
      expect(lines.slice(1)).toHaveLength(7);
      expect(lines.slice(1).every((l) => l.startsWith("  - broken.yml: "))).toBe(true);
    }
  });
});
