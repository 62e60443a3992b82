import {
  apiRoot,
  errorForReply,
  expandHref,
  findLink,
  hasParam,
  negotiateVersion,
  parseEnvelope,
} from "../../../../clients/broker/model";

it("apiRoot accepts a host, a URL or the API URL", () => {
  expect(apiRoot("broker.example")).toBe("https://broker.example/broker/rest");
  expect(apiRoot("http://127.0.0.1:8080/")).toBe("http://127.0.0.1:8080/broker/rest");
  expect(apiRoot("https://b.example/broker/rest/api")).toBe("https://b.example/broker/rest");
  expect(() => apiRoot("ftp://x")).toThrow(expect.objectContaining({ field: "server" }));
  expect(() => apiRoot("https://u:p@x")).toThrow(/credentials/);
});

it("negotiates the highest common version", () => {
  expect(negotiateVersion([1.0, 1.5, 1.7])).toBe(1.7);
  expect(negotiateVersion([1.5, 1.6])).toBeNull();
});

it("expands :word templates with RFC 2396 escaping and refuses a missing one", () => {
  expect(
    expandHref("https://b/broker/rest/domain/:domain_name/application/:name", {
      domain_name: "ns",
      name: "a b/é",
    }),
  ).toBe("https://b/broker/rest/domain/ns/application/a%20b%2F%C3%A9");
  expect(() => expandHref("https://b/x/:name")).toThrow(expect.objectContaining({ field: "name" }));
});

it("finds links by name or upper case and reads their params", () => {
  const links = {
    ADD_APPLICATION: {
      method: "POST",
      href: "https://b/x",
      optional_params: [{ name: "environment_variables" }],
    },
  };
  expect(findLink(links, "add_application")).toBe(links.ADD_APPLICATION);
  expect(findLink(links, "NOPE")).toBeNull();
  expect(hasParam(links.ADD_APPLICATION, "environment_variables")).toBe(true);
  expect(hasParam(links.ADD_APPLICATION, "initial_git_url")).toBe(false);
});

it("parses envelopes and refuses what is not one", () => {
  expect(parseEnvelope('{"type":"domain","data":{"name":"x"},"messages":[]}')).toMatchObject({
    type: "domain",
    data: { name: "x" },
  });
  expect(parseEnvelope("<html>")).toBeNull();
  expect(parseEnvelope("[1]")).toBeNull();
  expect(parseEnvelope("{}")).toBeNull();
});

it("several error messages are listed; 400 without messages is the server not responding correctly", () => {
  const env = parseEnvelope(
    JSON.stringify({
      type: null,
      data: null,
      messages: [
        { severity: "error", text: "invalid name: too long", field: "name", exit_code: 105 },
        { severity: "error", text: "invalid cartridges[0]: unknown", field: "cartridges[0]", exit_code: 109 },
      ],
    }),
  );
  const e = errorForReply(422, env, "POST x");
  expect(e).toMatchObject({ kind: "invalid", field: "name" });
  expect(e.message).toBe(
    "invalid name: the broker reported 2 errors: invalid name: too long; invalid cartridges[0]: unknown",
  );
  expect(errorForReply(400, null, "POST x").message).toMatch(/did not respond correctly/);
  expect(errorForReply(500, null, "GET x")).toMatchObject({ kind: "failed", exitCode: 1 });
  expect(errorForReply(503, null, "GET x")).toMatchObject({ kind: "unavailable" });
  expect(errorForReply(418, null, "GET x").message).toMatch(/unexpected error code: 418/);
});
