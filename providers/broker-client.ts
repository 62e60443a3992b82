// The providers' one way to the broker: a typed client (clients/broker, as the CLI's) per connection, kept
// for the life of the provider process (one engine command), so the API's link map (`GET /api`) is fetched
// once, not once per call (a refresh of N applications made N more requests). In memory only: the state
// never sees it. A token wins over login and password.
import { BrokerClient, type Credentials } from "../clients/broker";
import type { BrokerConnection } from "./application/model";

const clients = new Map<string, BrokerClient>();

export function brokerClientFor(c: BrokerConnection): BrokerClient {
  const credentials: Credentials =
    c.token !== undefined && c.token !== ""
      ? { token: c.token }
      : { login: c.login ?? "", password: c.password ?? "" };
  const key = JSON.stringify([c.server, credentials]);
  let made = clients.get(key);
  if (made === undefined) {
    made = new BrokerClient({ server: c.server, credentials, userAgent: "geartrain-pulumi (API [1.7])" });
    clients.set(key, made);
  }
  return made;
}
