// Routes: cartridges of an application.

import { BrokerNotFoundError } from "../../app/errors";
import type { CartridgeEvent } from "../../app/types";
import { message } from "../envelope";
import { applicationRep, appCartridgeRep } from "../represent";
import { appRef, wireMessages, type Auth, type Ctx, type Routes } from "./route";

export function cartridgesRoutes({ route, svc }: Routes): void {
  const dev: Auth = "user";
  route(
    "GET",
    "/application/:id/cartridges",
    { auth: dev, params: "app", summary: "cartridges of an application", tags: ["cartridges"] },
    async (c) => {
      const a = await svc.getApplication(c.p, appRef(c.params));
      return { type: "cartridges", data: a.cartridges.map((x) => appCartridgeRep(c.base, a, x)) };
    },
  );
  route(
    "POST",
    "/application/:id/cartridges",
    { auth: dev, params: "app", body: "addCartridge", summary: "add a cartridge", tags: ["cartridges"] },
    async (c) => {
      const name = String(c.body.name ?? c.body.cartridge);
      const ref = appRef(c.params);
      const r = await svc.addCartridge(c.p, ref, name);
      const a = await svc.getApplication(c.p, ref);
      return {
        status: 201,
        type: "cartridge",
        data: appCartridgeRep(c.base, a, r.value),
        messages: [message("info", `Added ${name} to application ${a.name}`), ...wireMessages(r.messages)],
      };
    },
  );
  const appCartridge = async (c: Ctx) => {
    const a = await svc.getApplication(c.p, appRef(c.params));
    const x = a.cartridges.find((y) => y.name === c.params.name);
    if (!x) throw new BrokerNotFoundError(`Cartridge '${c.params.name}' not found in application ${a.name}`);
    return { a, x };
  };
  route(
    "GET",
    "/application/:id/cartridge/:name",
    { auth: dev, params: "appCartridge", summary: "one cartridge of an application", tags: ["cartridges"] },
    async (c) => {
      const { a, x } = await appCartridge(c);
      return { type: "cartridge", data: appCartridgeRep(c.base, a, x) };
    },
  );
  route(
    "DELETE",
    "/application/:id/cartridge/:name",
    { auth: dev, params: "appCartridge", summary: "remove a cartridge", tags: ["cartridges"] },
    async (c) => {
      await appCartridge(c);
      const r = await svc.removeCartridge(c.p, appRef(c.params), c.params.name);
      return {
        type: "application",
        data: applicationRep(c.base, r.value),
        messages: [
          message("info", `Removed ${c.params.name} from application ${r.value.name}`),
          ...wireMessages(r.messages),
        ],
      };
    },
  );
  route(
    "POST",
    "/application/:id/cartridge/:name/events",
    {
      auth: dev,
      params: "appCartridge",
      body: "cartridgeEvent",
      summary: "start, stop ... one cartridge",
      tags: ["cartridges"],
    },
    async (c) => {
      const event = c.body.event as CartridgeEvent;
      const r = await svc.cartridgeEvent(c.p, appRef(c.params), c.params.name, event);
      const a = await svc.getApplication(c.p, appRef(c.params));
      return {
        type: "cartridge",
        data: appCartridgeRep(c.base, a, r.value),
        messages: [message("info", `${c.params.name}: ${event} done`), ...wireMessages(r.messages)],
      };
    },
  );
}
