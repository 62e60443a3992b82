// Routes: the admin API (our extension): districts, nodes, gears, users.

import type { Role } from "../../app/types";
import { districtRep, gearRecordRep, nodeRep, userRep } from "../represent";
import type { Auth, Routes } from "./route";

export function adminRoutes({ route, svc, deleted }: Routes): void {
  const adm: Auth = "admin";
  route("GET", "/admin/districts", { auth: adm, summary: "districts", tags: ["admin"] }, async (c) => ({
    type: "districts",
    data: (await svc.listDistricts(c.p)).map(districtRep),
  }));
  route(
    "POST",
    "/admin/districts",
    { auth: adm, body: "addDistrict", summary: "create a district", tags: ["admin"] },
    async (c) => {
      const b = c.body as { name: string; gear_profile: string; first_uid?: number; capacity?: number };
      const d = await svc.createDistrict(c.p, {
        name: b.name,
        gearProfile: b.gear_profile,
        ...(b.first_uid !== undefined ? { firstUid: b.first_uid } : {}),
        ...(b.capacity !== undefined ? { capacity: b.capacity } : {}),
      });
      return { status: 201, type: "district", data: districtRep(d) };
    },
  );
  route(
    "GET",
    "/admin/district/:name",
    { auth: adm, params: "name", summary: "show a district", tags: ["admin"] },
    async (c) => ({
      type: "district",
      data: districtRep(await svc.getDistrict(c.p, c.params.name)),
    }),
  );
  route(
    "DELETE",
    "/admin/district/:name",
    {
      auth: adm,
      params: "name",
      summary: "delete a district (it must have no nodes and no reserved UIDs)",
      tags: ["admin"],
    },
    async (c) => {
      await svc.deleteDistrict(c.p, c.params.name);
      return deleted(`District '${c.params.name}' deleted`);
    },
  );
  route(
    "POST",
    "/admin/district/:name/nodes",
    {
      auth: adm,
      params: "name",
      body: "addDistrictNode",
      summary: "add a node to a district",
      tags: ["admin"],
    },
    async (c) => ({
      type: "district",
      data: districtRep(await svc.addDistrictNode(c.p, c.params.name, String(c.body.node))),
    }),
  );
  route(
    "DELETE",
    "/admin/district/:name/node/:node",
    {
      auth: adm,
      params: "districtNode",
      summary: "remove a (deactivated, empty) node from a district",
      tags: ["admin"],
    },
    async (c) => ({
      type: "district",
      data: districtRep(await svc.removeDistrictNode(c.p, c.params.name, c.params.node)),
    }),
  );
  route(
    "POST",
    "/admin/district/:name/node/:node/events",
    {
      auth: adm,
      params: "districtNode",
      body: "districtNodeEvent",
      summary: "activate or deactivate a node",
      tags: ["admin"],
    },
    async (c) => ({
      type: "district",
      data: districtRep(
        await svc.setDistrictNodeActive(c.p, c.params.name, c.params.node, c.body.event === "activate"),
      ),
    }),
  );
  route(
    "POST",
    "/admin/district/:name/capacity",
    { auth: adm, params: "name", body: "districtCapacity", summary: "add or remove UIDs", tags: ["admin"] },
    async (c) => ({
      type: "district",
      data: districtRep(await svc.changeDistrictCapacity(c.p, c.params.name, Number(c.body.change))),
    }),
  );
  route(
    "GET",
    "/admin/nodes",
    { auth: adm, summary: "nodes with their facts", tags: ["admin"] },
    async (c) => ({
      type: "nodes",
      data: (await svc.listNodes(c.p)).map(nodeRep),
    }),
  );
  route(
    "GET",
    "/admin/node/:name",
    { auth: adm, params: "name", summary: "one node", tags: ["admin"] },
    async (c) => ({
      type: "node",
      data: nodeRep(await svc.getNode(c.p, c.params.name)),
    }),
  );
  route(
    "GET",
    "/admin/node/:name/gears",
    { auth: adm, params: "name", summary: "what the node really has (asked over the bus)", tags: ["admin"] },
    async (c) => ({ type: "node-gears", data: await svc.nodeGears(c.p, c.params.name) }),
  );
  route(
    "GET",
    "/admin/gears",
    { auth: adm, summary: "the broker's gear records", tags: ["admin"] },
    async (c) => ({
      type: "gears",
      data: (await svc.listGearRecords(c.p)).map(gearRecordRep),
    }),
  );
  route("GET", "/admin/users", { auth: adm, summary: "users", tags: ["admin"] }, async (c) => ({
    type: "users",
    data: (await svc.listUsers(c.p)).map((u) => userRep(c.base, u)),
  }));
  route(
    "POST",
    "/admin/users",
    { auth: adm, body: "addUser", summary: "create a user", tags: ["admin"] },
    async (c) => {
      const b = c.body as {
        login: string;
        password: string;
        role?: Role;
        max_gears?: number;
        max_domains?: number;
      };
      const u = await svc.createUser(c.p, {
        login: b.login,
        password: b.password,
        ...(b.role ? { role: b.role } : {}),
        ...(b.max_gears !== undefined ? { maxGears: b.max_gears } : {}),
        ...(b.max_domains !== undefined ? { maxDomains: b.max_domains } : {}),
      });
      return { status: 201, type: "user", data: userRep(c.base, u) };
    },
  );
}
