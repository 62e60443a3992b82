// The BrokerDomain provider's I/O (loaded by path by index.ts, as the BrokerApp provider's), over the one
// broker client. A domain that is already there and the caller's is taken over; delete of a domain already
// gone succeeds; a domain that still has applications is refused by the broker (the applications go first).

import { brokerClientFor } from "../broker-client";
import { checkBrokerDomain, diffBrokerDomain, type BrokerDomainInputs } from "./model";

const gone = (err: unknown) => (err as { kind?: string }).kind === "not_found";

export async function check(_olds: unknown, news: BrokerDomainInputs) {
  return { inputs: news, failures: checkBrokerDomain(news) };
}

export async function diff(_id: string, olds: BrokerDomainInputs, news: BrokerDomainInputs) {
  return diffBrokerDomain(olds, news);
}

export async function create(inputs: BrokerDomainInputs) {
  const d = await brokerClientFor(inputs.connection).addDomain(inputs.name);
  return { id: d.name, outs: { ...inputs, name: d.name } };
}

export async function read(id: string, props: BrokerDomainInputs) {
  try {
    const d = await brokerClientFor(props.connection).domain(props.name ?? id);
    return { id: d.name, props: { ...props, name: d.name }, inputs: { ...props, name: d.name } };
  } catch (err) {
    if (gone(err)) return { id: "", props: {} as BrokerDomainInputs };
    throw err;
  }
}

export async function update(_id: string, _olds: BrokerDomainInputs, news: BrokerDomainInputs) {
  return { outs: news };
}

export async function remove(id: string, props: BrokerDomainInputs) {
  try {
    await brokerClientFor(props.connection).deleteDomain(props.name ?? id);
  } catch (err) {
    if (!gone(err)) throw err;
  }
}
