// Our IStompSocket over TCP, against a local net server: open, data in chunks, send of strings and bytes,
// TCP_NODELAY, close and terminate; and @stomp/stompjs on top of it against a minimal STOMP server that
// splits its frames across TCP writes.

import * as net from "net";
import { Client, StompSocketState } from "@stomp/stompjs";
import { TcpStompSocket } from "../../../../services/bus/socket";

interface Server {
  port: number;
  conns: net.Socket[];
  received: () => string;
  close(): Promise<void>;
}

async function server(onConn: (s: net.Socket) => void = () => undefined): Promise<Server> {
  const conns: net.Socket[] = [];
  let received = "";
  const srv = net.createServer((s) => {
    conns.push(s);
    s.on("data", (d) => (received += d.toString("utf8")));
    s.on("error", () => undefined);
    onConn(s);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    conns,
    received: () => received,
    close: () =>
      new Promise<void>((r) => {
        for (const c of conns) c.destroy();
        srv.close(() => r());
      }),
  };
}

function waitFor(cond: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + 5000;
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() > end) {
        clearInterval(t);
        reject(new Error("timed out"));
      }
    }, 5);
  });
}

test("opens, sets TCP_NODELAY, passes received chunks on, sends strings and bytes", async () => {
  const srv = await server((s) => s.write("hello"));
  const sock = new TcpStompSocket({ host: "127.0.0.1", port: srv.port });
  const events: string[] = [];
  const chunks: Uint8Array[] = [];
  sock.onopen = () => events.push("open");
  sock.onmessage = (ev) => chunks.push(new Uint8Array((ev as { data: Uint8Array }).data));
  sock.onclose = () => events.push("close");
  expect(sock.readyState).toBe(StompSocketState.CONNECTING);
  await waitFor(() => events.includes("open") && chunks.length > 0);
  expect(sock.readyState).toBe(StompSocketState.OPEN);
  expect(sock.noDelay).toBe(true);
  expect(Buffer.concat(chunks).toString()).toBe("hello");
  sock.send("é-text\n");
  sock.send(new TextEncoder().encode("bytes\0"));
  await waitFor(() => srv.received() === "é-text\nbytes\0");
  expect(sock.writableLength).toBe(0);
  sock.close();
  await waitFor(() => events.includes("close"));
  expect(sock.readyState).toBe(StompSocketState.CLOSED);
  await srv.close();
});

test("noDelay can be turned off (to measure it)", async () => {
  const srv = await server();
  const sock = new TcpStompSocket({ host: "127.0.0.1", port: srv.port, noDelay: false });
  expect(sock.noDelay).toBe(false);
  sock.terminate();
  await srv.close();
});

test("terminate drops the connection at once; a refused connect reports an error and a close", async () => {
  const srv = await server();
  const sock = new TcpStompSocket({ host: "127.0.0.1", port: srv.port });
  let closed = false;
  sock.onclose = () => (closed = true);
  await waitFor(() => sock.readyState === StompSocketState.OPEN);
  sock.terminate();
  await waitFor(() => closed);
  const port = srv.port;
  await srv.close();
  const refused = new TcpStompSocket({ host: "127.0.0.1", port });
  const seen: string[] = [];
  refused.onerror = (e) => seen.push((e as NodeJS.ErrnoException).code ?? "error");
  refused.onclose = () => seen.push("close");
  await waitFor(() => seen.includes("close"));
  expect(seen).toEqual(["ECONNREFUSED", "close"]);
});

test("a socket not established in time is destroyed", async () => {
  const srv = await server(); // accepts TCP, never speaks STOMP
  const sock = new TcpStompSocket({ host: "127.0.0.1", port: srv.port, establishTimeoutMs: 100 });
  let closed = false;
  sock.onclose = () => (closed = true);
  await waitFor(() => closed);
  await srv.close();
});

test("stompjs over it: CONNECT, SUBSCRIBE and a MESSAGE split across TCP writes", async () => {
  let buffer = "";
  const srv = await server((s) => {
    s.on("data", (d) => {
      buffer += d.toString("utf8");
      let i;
      while ((i = buffer.indexOf("\0")) >= 0) {
        const frame = buffer.slice(0, i).replace(/^\n+/, "");
        buffer = buffer.slice(i + 1);
        const command = frame.split("\n")[0];
        if (command === "CONNECT") s.write("CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0");
        if (command === "SUBSCRIBE") {
          const id = /\nid:([^\n]*)/.exec(frame)![1];
          const body = JSON.stringify({ greeting: "hé" });
          const msg = `MESSAGE\nsubscription:${id}\nmessage-id:m1\ndestination:/queue/x\ncontent-length:${Buffer.byteLength(body)}\n\n${body}\0`;
          const bytes = Buffer.from(msg);
          const cut = bytes.indexOf(Buffer.from("é")) + 1; // in the middle of a UTF-8 sequence
          s.write(bytes.subarray(0, cut));
          setTimeout(() => s.write(bytes.subarray(cut)), 20);
        }
      }
    });
  });
  const client = new Client({
    webSocketFactory: () => new TcpStompSocket({ host: "127.0.0.1", port: srv.port }),
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    reconnectDelay: 0,
    debug: () => undefined,
  });
  const bodies: string[] = [];
  client.onConnect = () => client.subscribe("/queue/x", (m) => bodies.push(m.body));
  client.activate();
  await waitFor(() => bodies.length === 1);
  expect(JSON.parse(bodies[0])).toEqual({ greeting: "hé" });
  expect(srv.received()).toMatch(/^CONNECT\n/);
  await client.deactivate({ force: true });
  await srv.close();
});
