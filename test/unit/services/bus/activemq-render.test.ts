// activemq.xml and its credentials file: deterministic bytes (snapshot), no password in the XML, only the
// STOMP connector on the given address, one queue entry per node, validation naming the field.

import {
  activemqUsers,
  agentUser,
  propertiesValue,
  renderActiveMQXml,
  renderCredentials,
  resolveActiveMQSpec,
  type ActiveMQSpec,
} from "../../../../common/render/activemq";

const spec: ActiveMQSpec = {
  address: "127.0.0.1",
  port: 61999,
  users: { broker: "broker", admin: "admin" },
  nodes: ["node2", "node1"],
};
const passwords = {
  broker: "broker-secret-0001",
  admin: "admin-secret-00001",
  "agent-node1": "node1-secret-0001",
  "agent-node2": "node2-secret-0001",
};

test("activemq.xml (snapshot)", () => {
  expect(renderActiveMQXml(spec)).toMatchSnapshot();
});

test("the same spec renders the same bytes; node order does not matter", () => {
  expect(renderActiveMQXml(spec)).toBe(renderActiveMQXml({ ...spec, nodes: ["node1", "node2"] }));
});

test("the XML holds placeholders, never a password; only the STOMP connector", () => {
  const xml = renderActiveMQXml(spec);
  for (const pw of Object.values(passwords)) expect(xml).not.toContain(pw);
  expect(xml).toContain('password="${geartrain.password.agent-node1}"');
  expect(xml.match(/<transportConnector /g)).toHaveLength(1);
  expect(xml).toContain('uri="stomp+nio://127.0.0.1:61999?');
  const connectors = xml.slice(xml.indexOf("<transportConnectors>"), xml.indexOf("</transportConnectors>"));
  expect(connectors).not.toMatch(/openwire|tcp:|amqp|mqtt|ws:|http/i);
  expect(xml).toContain("wireFormat.maxFrameSize=4194304");
  expect(xml).toContain('sendFailIfNoSpaceAfterTimeout="3000"');
});

test("each agent reads only its own queue; '>' entries are the admins' alone", () => {
  const xml = renderActiveMQXml(spec);
  expect(xml).toContain('queue="geartrain.node.node1" read="node-node1" write="brokers"');
  expect(xml).toContain('queue="geartrain.node.node2" read="node-node2" write="brokers"');
  for (const m of xml.matchAll(/(?:queue|topic)=">" read="([^"]*)" write="([^"]*)" admin="([^"]*)"/g))
    expect([m[1], m[2], m[3]]).toEqual(["admins", "admins", "admins"]);
  expect(xml).toContain('topic="ActiveMQ.Advisory.>" read="admins" write="admins" admin="everyone"');
  expect(xml).toContain("<tempDestinationAuthorizationEntry read=");
});

test("users: one per role, agents in their own node group", () => {
  expect(activemqUsers(spec)).toEqual([
    { name: "broker", groups: "brokers,everyone" },
    { name: "agent-node1", groups: "nodes,node-node1,everyone" },
    { name: "agent-node2", groups: "nodes,node-node2,everyone" },
    { name: "admin", groups: "admins,brokers,everyone" },
  ]);
  expect(agentUser("n9")).toBe("agent-n9");
});

test("credentials: every user's password, escaped for .properties", () => {
  const text = renderCredentials(spec, passwords);
  expect(text).toContain("geartrain.password.broker=broker-secret-0001\n");
  expect(text).toContain("geartrain.password.agent-node2=node2-secret-0001\n");
  expect(propertiesValue("a=b:c\\d#e!f")).toBe("a\\=b\\:c\\\\d\\#e\\!f");
  expect(propertiesValue(" lead")).toBe("\\ lead");
  expect(propertiesValue("é\n")).toBe("\\u00e9\\u000a");
});

test("a missing or short password, or a placeholder in one, names the user", () => {
  expect(() =>
    renderCredentials(spec, { ...passwords, "agent-node1": undefined as unknown as string }),
  ).toThrow("invalid passwords.agent-node1: must be a string of at least 12 characters");
  expect(() => renderCredentials(spec, { ...passwords, admin: "short" })).toThrow(/passwords\.admin/);
  expect(() => renderCredentials(spec, { ...passwords, admin: "abc${x}defghijkl" })).toThrow(
    /must not contain/,
  );
});

test("bad specs name the field", () => {
  expect(() => resolveActiveMQSpec({ ...spec, address: "0.0.0.0:1" })).toThrow(/invalid address/);
  expect(() => resolveActiveMQSpec({ ...spec, port: 70000 })).toThrow(/invalid port/);
  expect(() => resolveActiveMQSpec({ ...spec, nodes: ["ok", "a.b"] })).toThrow(/invalid nodes\[1\]/);
  expect(() => resolveActiveMQSpec({ ...spec, nodes: ["x>"] })).toThrow(/invalid nodes\[0\]/);
  expect(() => resolveActiveMQSpec({ ...spec, nodes: ["n", "n"] })).toThrow(
    /invalid nodes\[1\]: n is listed twice/,
  );
  expect(() => resolveActiveMQSpec({ ...spec, users: { broker: "x", admin: "x" } })).toThrow(/users\.admin/);
  expect(() => resolveActiveMQSpec({ ...spec, memoryMb: 1 })).toThrow(/invalid memoryMb/);
});
