// The Service's pure model: validation names the field, defaults, drift, and the provider's diff rules.
import { ValidationError } from "../../../../common/errors";
import {
  parseStatus,
  resolveService,
  serviceDrift,
  servicePaths,
  ServiceSpecInput,
  validateEnvironmentValues,
} from "../../../../components/host/service/model";
import { canonicalJson, replacedProperties } from "../../../../components/host/service/provider";

const BASE: ServiceSpecInput = {
  name: "web",
  backend: "runit",
  serviceDirectory: "/var/lib/geartrain/services",
  command: ["/usr/bin/python3", "-m", "http.server"],
};

function fieldOf(f: () => unknown): { field: string; message: string } {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return { field: (err as ValidationError).field, message: (err as Error).message };
  }
  throw new Error("expected a ValidationError");
}

describe("resolveService", () => {
  it("applies the defaults", () => {
    expect(resolveService(BASE)).toEqual({
      ...BASE,
      user: "root",
      group: "root",
      workingDirectory: "/",
      environmentNames: [],
      restart: "always",
      readiness: null,
      readinessAttempts: 60,
      readinessIntervalSeconds: 1,
      stopSignal: "TERM",
      stopTimeoutSeconds: 10,
      requires: [],
    });
    expect(resolveService({ ...BASE, user: "postgres" }).group).toBeNull();
  });

  it.each<[string, Partial<ServiceSpecInput>, string]>([
    ["name", { name: "Web;rm" }, "name"],
    ["name too long", { name: "a".repeat(41) }, "name"],
    ["backend", { backend: "upstart" }, "backend"],
    ["serviceDirectory", { serviceDirectory: "relative" }, "serviceDirectory"],
    ["empty command", { command: [] }, "command"],
    ["relative program", { command: ["python3"] }, "command[0]"],
    ["newline in an argument", { command: ["/bin/echo", "a\nb"] }, "command[1]"],
    ["user", { user: "Root Admin" }, "user"],
    ["group", { group: "a:b" }, "group"],
    ["working directory", { workingDirectory: "/srv/../etc" }, "workingDirectory"],
    ["environment name", { environmentNames: ["OK", "NOT-OK"] }, "environment.NOT-OK"],
    ["restart", { restart: "sometimes" }, "restart"],
    [
      "readiness: both",
      { readiness: { tcp: { address: "127.0.0.1", port: 1 }, command: ["/bin/true"] } },
      "readiness",
    ],
    ["readiness: none", { readiness: {} }, "readiness"],
    ["readiness port", { readiness: { tcp: { address: "127.0.0.1", port: 70000 } } }, "readiness.tcp.port"],
    ["readiness address", { readiness: { tcp: { address: "a b", port: 80 } } }, "readiness.tcp.address"],
    ["readiness command", { readiness: { command: ["true"] } }, "readiness.command[0]"],
    ["readiness attempts", { readiness: { command: ["/bin/true"], attempts: 0 } }, "readiness.attempts"],
    [
      "readiness interval",
      { readiness: { command: ["/bin/true"], intervalSeconds: 0 } },
      "readiness.intervalSeconds",
    ],
    ["stop signal", { stopSignal: "STOP" }, "stopSignal"],
    ["stop timeout", { stopTimeoutSeconds: 1.5 }, "stopTimeoutSeconds"],
    ["requires", { requires: ["db", "Bad"] }, "requires[1]"],
    ["requires itself", { requires: ["web"] }, "requires"],
  ])("rejects a bad %s, naming the field", (_label, change, field) => {
    const got = fieldOf(() => resolveService({ ...BASE, ...change }));
    expect(got.field).toBe(field);
    expect(got.message).toMatch(new RegExp(`^invalid ${field.replace(/[[\].]/g, "\\$&")}: `));
  });

  it("checks environment values without quoting them in the message", () => {
    validateEnvironmentValues({ A: "fine with spaces 'and' $quotes" });
    const got = fieldOf(() => validateEnvironmentValues({ PASSWORD: "s3cret\nline" }));
    expect(got.field).toBe("environment.PASSWORD");
    expect(got.message).not.toContain("s3cret");
  });

  it("puts each backend's files in their own places", () => {
    const s = resolveService(BASE);
    expect(servicePaths(s)).toMatchObject({
      dir: "/var/lib/geartrain/services/runit/sv/web",
      entry: "/var/lib/geartrain/services/runit/service/web",
      environmentFile: "/var/lib/geartrain/services/runit/sv/web/env",
    });
    expect(servicePaths({ ...s, backend: "systemd" })).toMatchObject({
      entry: "/etc/systemd/system/geartrain-web.service",
      environmentFile: "/var/lib/geartrain/services/systemd/web/environment",
      logHint: "journalctl -u geartrain-web.service",
    });
  });
});

describe("drift", () => {
  const expected = { run: "h1", "log/run": "h2" };
  it("is empty when the daemon runs with the declared files", () => {
    expect(serviceDrift({ supervisor: true, state: "run", files: { ...expected } }, expected)).toEqual([]);
  });
  it("names a dead supervisor, a stopped daemon and edited files", () => {
    expect(
      serviceDrift(
        { supervisor: false, state: "down", files: { run: "edited", "log/run": "h2", extra: "x" } },
        expected,
      ),
    ).toEqual([
      "its supervisor (runsvdir) is not running",
      "it is not running (down)",
      "its files differ from the declared ones (extra, run)",
    ]);
  });
  it("parses the host's status line", () => {
    expect(parseStatus('noise\n{"supervisor":true,"state":"run","files":{"run":"ab"}}\n')).toEqual({
      supervisor: true,
      state: "run",
      files: { run: "ab" },
    });
    expect(() => parseStatus('{"nope":1}')).toThrow(/unexpected service status/);
  });
});

describe("provider diff rules", () => {
  const inputs = {
    host: "local",
    connection: { type: "local" as const },
    spec: resolveService(BASE),
    environment: { B: "2", A: "1" },
    providerVersion: 1,
  };
  it("compares inputs whatever their key order", () => {
    expect(canonicalJson({ ...inputs, environment: { A: "1", B: "2" } })).toBe(canonicalJson(inputs));
  });
  it("replaces (delete first) only when it becomes another daemon", () => {
    expect(replacedProperties(inputs, { ...inputs, environment: {} })).toEqual([]);
    expect(
      replacedProperties(inputs, { ...inputs, spec: { ...inputs.spec, command: ["/bin/true"] } }),
    ).toEqual([]);
    expect(replacedProperties(inputs, { ...inputs, spec: { ...inputs.spec, name: "web2" } })).toEqual([
      "spec",
    ]);
    expect(replacedProperties(inputs, { ...inputs, spec: { ...inputs.spec, backend: "systemd" } })).toEqual([
      "spec",
    ]);
    expect(replacedProperties(inputs, { ...inputs, host: "other" })).toEqual(["host"]);
  });
});
