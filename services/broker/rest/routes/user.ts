// Routes: the user, SSH keys, authorizations.

import { message } from "../envelope";
import { authorizationRep, keyRep, userRep } from "../represent";
import type { Auth, Routes } from "./route";

export function userRoutes({ route, svc, deleted }: Routes): void {
  const dev: Auth = "user";
  route("GET", "/user", { auth: dev, summary: "the user", tags: ["user"] }, async (c) => ({
    type: "user",
    data: userRep(c.base, await svc.getUser(c.p)),
  }));
  route("GET", "/user/keys", { auth: dev, summary: "list SSH keys", tags: ["keys"] }, async (c) => ({
    type: "keys",
    data: (await svc.listKeys(c.p)).map((k) => keyRep(c.base, k)),
  }));
  route(
    "POST",
    "/user/keys",
    { auth: dev, body: "addKey", summary: "add an SSH key", tags: ["keys"] },
    async (c) => {
      const b = c.body as { name: string; type: string; content: string };
      const k = await svc.addKey(c.p, { name: b.name, type: b.type, content: b.content });
      return {
        status: 201,
        type: "key",
        data: keyRep(c.base, k),
        messages: [message("info", `Created SSH key ${k.name}`)],
      };
    },
  );
  route(
    "GET",
    "/user/keys/:name",
    { auth: dev, params: "name", summary: "show an SSH key", tags: ["keys"] },
    async (c) => ({
      type: "key",
      data: keyRep(c.base, await svc.getKey(c.p, c.params.name)),
    }),
  );
  route(
    "PUT",
    "/user/keys/:name",
    { auth: dev, params: "name", body: "updateKey", summary: "replace an SSH key", tags: ["keys"] },
    async (c) => {
      const b = c.body as { type: string; content: string };
      const k = await svc.updateKey(c.p, c.params.name, { type: b.type, content: b.content });
      return {
        type: "key",
        data: keyRep(c.base, k),
        messages: [message("info", `Updated SSH key ${k.name}`)],
      };
    },
  );
  route(
    "DELETE",
    "/user/keys/:name",
    { auth: dev, params: "name", summary: "remove an SSH key", tags: ["keys"] },
    async (c) => {
      await svc.removeKey(c.p, c.params.name);
      return deleted(`Deleted SSH key ${c.params.name}`);
    },
  );
  route(
    "GET",
    "/user/authorizations",
    { auth: dev, summary: "list tokens", tags: ["authorizations"] },
    async (c) => ({
      type: "authorizations",
      data: (await svc.listAuthorizations(c.p)).map((a) => authorizationRep(c.base, a)),
    }),
  );
  route(
    "POST",
    "/user/authorizations",
    { auth: dev, body: "addAuthorization", summary: "create a token (shown once)", tags: ["authorizations"] },
    async (c) => {
      const b = c.body as { scope?: string; note?: string; expires_in?: number };
      const a = await svc.addAuthorization(c.p, {
        scope: b.scope ?? "userinfo",
        note: b.note ?? "",
        ...(b.expires_in !== undefined && b.expires_in !== -1 ? { expiresIn: b.expires_in } : {}),
      });
      return { status: 201, type: "authorization", data: authorizationRep(c.base, a) };
    },
  );
  route(
    "DELETE",
    "/user/authorizations",
    { auth: dev, summary: "revoke all tokens", tags: ["authorizations"] },
    async (c) => {
      await svc.removeAllAuthorizations(c.p);
      return deleted("All authorizations for the user have been revoked");
    },
  );
  route(
    "GET",
    "/user/authorizations/:id",
    { auth: dev, params: "id", summary: "show a token", tags: ["authorizations"] },
    async (c) => ({
      type: "authorization",
      data: authorizationRep(c.base, await svc.getAuthorization(c.p, c.params.id)),
    }),
  );
  route(
    "DELETE",
    "/user/authorizations/:id",
    { auth: dev, params: "id", summary: "revoke a token", tags: ["authorizations"] },
    async (c) => {
      await svc.removeAuthorization(c.p, c.params.id);
      return deleted(`Authorization ${c.params.id} is revoked`);
    },
  );
}
