// The BrokerApp provider's I/O: each method of the dynamic provider (index.ts) loads this compiled module by
// its absolute path and calls the function of the same name, so the state carries a few lines of provider
// code and never a credential (docs/providers.md). Every request goes through the one typed broker client
// (clients/broker), as the CLI's do; the decisions are model.ts's.

import { BrokerClient } from "../../clients/broker";
import { brokerClientFor } from "../broker-client";
import {
  checkBrokerApp,
  diffBrokerApp,
  envChanges,
  inputsOf,
  normalizeInputs,
  outputsOf,
  canonicalJson,
  desiredObserved,
  type BrokerAppInputs,
  type BrokerAppOutputs,
} from "./model";

const gone = (err: unknown) => (err as { kind?: string }).kind === "not_found";

/** The application and what its nodes report, as the resource's properties; null when it is gone. */
async function live(c: BrokerClient, base: BrokerAppInputs): Promise<BrokerAppOutputs | null> {
  try {
    // one GET of the application; its links give the live state and the variables, asked at once
    const app = await c.application(base.domain, base.name, { includeCartridges: true });
    const [state, vars] = await Promise.all([c.liveStateOf(app), c.listEnvOf(app)]);
    const env = Object.fromEntries(vars.map((v) => [v.name, v.value]));
    return outputsOf(base, app, state, env);
  } catch (err) {
    if (gone(err)) return null;
    throw err;
  }
}

async function mustLive(c: BrokerClient, base: BrokerAppInputs): Promise<BrokerAppOutputs> {
  const out = await live(c, base);
  if (out === null) throw new Error(`application ${base.name} in ${base.domain} is gone from the broker`);
  return out;
}

export async function check(
  _olds: unknown,
  news: Partial<BrokerAppInputs>,
): Promise<{ inputs: BrokerAppInputs; failures: { property: string; reason: string }[] }> {
  const failures = checkBrokerApp(news);
  return { inputs: failures.length ? (news as BrokerAppInputs) : normalizeInputs(news), failures };
}

export async function diff(_id: string, olds: BrokerAppOutputs, news: BrokerAppInputs) {
  return diffBrokerApp(olds, news);
}

export async function create(inputs: BrokerAppInputs) {
  const c = brokerClientFor(inputs.connection);
  const r = await c.createApplication(inputs.domain, {
    name: inputs.name,
    cartridges: [inputs.webCartridge, ...inputs.cartridges],
    environmentVariables: Object.entries(inputs.env).map(([name, value]) => ({ name, value })),
    gearProfile: inputs.gearProfile,
  });
  if (!inputs.started) await c.applicationEvent(inputs.domain, inputs.name, "stop");
  const outs = await mustLive(c, inputs);
  return { id: r.value.id, outs };
}

export async function read(
  id: string,
  props: BrokerAppOutputs,
): Promise<{ id: string; props: BrokerAppOutputs; inputs?: BrokerAppInputs }> {
  const out = await live(brokerClientFor(props.connection), props);
  if (out === null) return { id: "", props: {} as BrokerAppOutputs };
  return { id: out.appId || id, props: out, inputs: inputsOf(out) };
}

export async function update(_id: string, olds: BrokerAppOutputs, news: BrokerAppInputs) {
  const c = brokerClientFor(news.connection);
  const { domain, name } = news;
  const env = envChanges(olds.env ?? {}, news.env);
  if (env.length) await c.changeEnv(domain, name, env);
  for (const cart of olds.cartridges ?? [])
    if (!news.cartridges.includes(cart)) await c.removeCartridge(domain, name, cart);
  for (const cart of news.cartridges)
    if (!(olds.cartridges ?? []).includes(cart)) await c.addCartridge(domain, name, cart);
  if (olds.started !== news.started) await c.applicationEvent(domain, name, news.started ? "start" : "stop");
  // what the nodes report differs from what they should: converge the gears, run the cartridges as declared
  const want = desiredObserved(news.webCartridge, news.cartridges, news.started);
  const before = await mustLive(c, news);
  if (canonicalJson(before.observed) !== canonicalJson(want)) await c.repairApplication(domain, name);
  return { outs: await mustLive(c, news) };
}

export async function remove(_id: string, props: BrokerAppOutputs) {
  try {
    await brokerClientFor(props.connection).deleteApplication(props.domain, props.name);
  } catch (err) {
    if (!gone(err)) throw err; // already gone: nothing to do
  }
}
