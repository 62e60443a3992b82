import { parsePort, PortLine } from "../../../plugins/language-nodejs/port-line";

describe("PortLine", () => {
  it("splits the first line off chunks that cut it anywhere and passes the rest on", () => {
    const reader = new PortLine();
    expect(reader.feed(Buffer.from("123"))).toEqual({ rest: Buffer.alloc(0) });
    const { line, rest } = reader.feed(Buffer.from("45\nlog line\n"));
    expect(line).toBe("12345");
    expect(rest.toString()).toBe("log line\n");
    expect(reader.feed(Buffer.from("more\n"))).toEqual({ rest: Buffer.from("more\n") });
  });
});

describe("parsePort", () => {
  it("accepts a port with surrounding whitespace", () => {
    expect(parsePort(" 40123\r")).toBe(40123);
  });

  it.each(["", "0", "65536", "12ab", "listening on 80"])("rejects %j", (text) => {
    expect(parsePort(text)).toBeUndefined();
  });
});
