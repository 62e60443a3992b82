// Link objects (shared/reference/openshift-rest-api.md §3.4): link names are the real API, and their
// required/optional params tell rhc which features exist, so each link lists exactly what the route accepts.
// Pure: builders take the API base URL (https://host/broker/rest) and return plain objects.

import { SSH_KEY_TYPES } from "../model/validate";

export interface WireParam {
  readonly name: string;
  readonly type: string;
  readonly description: string;
  readonly valid_options: readonly string[];
  readonly invalid_options?: readonly string[];
  readonly default_value?: unknown;
}

export interface WireLink {
  readonly rel: string;
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly href: string;
  readonly required_params: readonly WireParam[];
  readonly optional_params: readonly WireParam[];
}

export type LinkMap = Record<string, WireLink>;

function param(name: string, type: string, description: string, validOptions: readonly string[] = []) {
  return { name, type, description, valid_options: validOptions, invalid_options: [] };
}
function optional(
  name: string,
  type: string,
  description: string,
  defaultValue: unknown = null,
  validOptions: readonly string[] = [],
): WireParam {
  return { name, type, description, valid_options: validOptions, default_value: defaultValue };
}

function link(
  rel: string,
  method: WireLink["method"],
  href: string,
  required: readonly WireParam[] = [],
  opt: readonly WireParam[] = [],
): WireLink {
  return { rel, method, href, required_params: required, optional_params: opt };
}

/** URI-escapes one path segment (everything outside RFC 3986 unreserved). */
export function seg(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export const APP_EVENTS = ["start", "stop", "force-stop", "restart", "reload", "tidy"] as const;
export const CARTRIDGE_EVENTS = ["start", "stop", "restart", "reload"] as const;

export function apiLinks(base: string, cartridgeNames: readonly string[]): LinkMap {
  return {
    API: link("API entry point", "GET", `${base}/api`),
    GET_USER: link("Get user information", "GET", `${base}/user`),
    LIST_KEYS: link("List SSH keys", "GET", `${base}/user/keys`),
    ADD_KEY: addKeyLink(base),
    LIST_AUTHORIZATIONS: link("List authorizations", "GET", `${base}/user/authorizations`),
    ADD_AUTHORIZATION: addAuthorizationLink(base),
    SHOW_AUTHORIZATION: link("Show authorization", "GET", `${base}/user/authorizations/:id`, [
      param("id", "string", "Authorization id"),
    ]),
    ADD_DOMAIN: link(
      "Create new domain",
      "POST",
      `${base}/domains`,
      [param("name", "string", "Name of the domain")],
      [],
    ),
    LIST_DOMAINS: link("List all domains you have access to", "GET", `${base}/domains`),
    LIST_DOMAINS_BY_OWNER: link("List domains", "GET", `${base}/domains`, [
      param("owner", "string", "Return only the domains owned by the specified user id or identity.", [
        "@self",
      ]),
    ]),
    SHOW_DOMAIN: link("Retrieves domain", "GET", `${base}/domain/:name`, [
      param("name", "string", "Name of the domain"),
    ]),
    LIST_APPLICATIONS: link("List application", "GET", `${base}/applications`),
    SHOW_APPLICATION: link("Retrieve application", "GET", `${base}/application/:id`, [
      param("id", "string", "Unique identifier of the application"),
    ]),
    SHOW_APPLICATION_BY_DOMAIN: link(
      "Retrieve application by domain",
      "GET",
      `${base}/domain/:domain_name/application/:name`,
      [
        param("domain_name", "string", "Name of the domain"),
        param("name", "string", "Name of the application"),
      ],
    ),
    LIST_CARTRIDGES: link("List cartridges", "GET", `${base}/cartridges`),
    // the catalogue names, so a client can see what it may ask for
    ...(cartridgeNames.length
      ? {
          SHOW_CARTRIDGE: link("Detail for a cartridge", "GET", `${base}/cartridge/:name`, [
            param("name", "string", "Name of the cartridge", cartridgeNames),
          ]),
        }
      : {}),
  };
}

function addKeyLink(base: string): WireLink {
  return link("Add new SSH key", "POST", `${base}/user/keys`, [
    param("name", "string", "Name of the key"),
    param("type", "string", "Type of Key", KEY_TYPES),
    param("content", "string", "The key portion of an rsa key (excluding ssh-rsa and comment)"),
  ]);
}

function addAuthorizationLink(base: string): WireLink {
  return link(
    "Add new authorization",
    "POST",
    `${base}/user/authorizations`,
    [],
    [
      optional("scope", "string", "Scope of the authorization (session, read, userinfo)", "userinfo", [
        "session",
        "read",
        "userinfo",
      ]),
      optional("note", "string", "A description to remind you what this authorization is for.", null),
      optional("expires_in", "integer", "The number of seconds before this authorization expires.", -1),
    ],
  );
}

/** the key types the broker stores (model/validate.ts), offered as the links' valid options */
export const KEY_TYPES = SSH_KEY_TYPES;

export function userLinks(base: string): LinkMap {
  return {
    ADD_KEY: addKeyLink(base),
    LIST_KEYS: link("List SSH keys", "GET", `${base}/user/keys`),
    LIST_AUTHORIZATIONS: link("List authorizations", "GET", `${base}/user/authorizations`),
    ADD_AUTHORIZATION: addAuthorizationLink(base),
  };
}

export function keyLinks(base: string, name: string): LinkMap {
  const href = `${base}/user/keys/${seg(name)}`;
  return {
    GET: link("Get SSH key", "GET", href),
    UPDATE: link("Update SSH key", "PUT", href, [
      param("type", "string", "Type of Key", KEY_TYPES),
      param("content", "string", "The key portion of an rsa key (excluding ssh-rsa and comment)"),
    ]),
    DELETE: link("Delete SSH key", "DELETE", href),
  };
}

export function authorizationLinks(base: string, id: string): LinkMap {
  const href = `${base}/user/authorizations/${seg(id)}`;
  return {
    GET: link("Get authorization", "GET", href),
    DELETE: link("Delete authorization", "DELETE", href),
  };
}

export function domainLinks(base: string, name: string): LinkMap {
  const href = `${base}/domain/${seg(name)}`;
  return {
    GET: link("Get domain", "GET", href),
    LIST_APPLICATIONS: link("List applications", "GET", `${href}/applications`),
    ADD_APPLICATION: link(
      "Create new application",
      "POST",
      `${href}/applications`,
      [param("name", "string", "Name of the application")],
      [
        optional("cartridges", "array", "Array of one or more cartridge names"),
        optional("cartridges[][name]", "string", "Name of a cartridge."),
        optional(
          "environment_variables",
          "array",
          "Add or Update application environment variables, e.g.:[{'name':'FOO', 'value':'123'}]",
        ),
        optional("gear_profile", "string", "Size of the gear"),
      ],
    ),
    DELETE: link(
      "Delete domain",
      "DELETE",
      href,
      [],
      [optional("force", "boolean", "Force delete domain", false)],
    ),
  };
}

export function applicationLinks(base: string, id: string): LinkMap {
  const href = `${base}/application/${seg(id)}`;
  const ev = (rel: string, event: string) =>
    link(rel, "POST", `${href}/events`, [param("event", "string", "event", [event])]);
  return {
    GET: link("Get application", "GET", href),
    START: ev("Start application", "start"),
    STOP: ev("Stop application", "stop"),
    FORCE_STOP: ev("Force stop application", "force-stop"),
    RESTART: ev("Restart application", "restart"),
    RELOAD: ev("Reload the application", "reload"),
    TIDY: ev("Tidy the application framework", "tidy"),
    ADD_CARTRIDGE: link("Add embedded cartridge", "POST", `${href}/cartridges`, [
      param("name", "string", "framework-type, e.g.: postgresql-15"),
    ]),
    LIST_CARTRIDGES: link("List embedded cartridges", "GET", `${href}/cartridges`),
    LIST_ENVIRONMENT_VARIABLES: link(
      "List all environment variables",
      "GET",
      `${href}/environment-variables`,
    ),
    SET_UNSET_ENVIRONMENT_VARIABLES: link(
      "Add/Update/Delete one or more environment variables",
      "PATCH",
      `${href}/environment-variables`,
      [
        param(
          "environment_variables",
          "array",
          "Add/Update/Delete application environment variables, e.g. Add/Update: [{'name':'FOO', 'value':'123'}], Delete: [{'name':'FOO'}]",
        ),
      ],
    ),
    GET_GEAR_GROUPS: link("Get application gear groups", "GET", `${href}/gear_groups`),
    GET_LIVE_STATE: link("What the nodes really have for the application", "GET", `${href}/live-state`),
    REPAIR: link("Converge the gears and cartridges to the application's spec", "POST", `${href}/repair`),
    DELETE: link("Delete application", "DELETE", href),
  };
}

export function appCartridgeLinks(base: string, appId: string, name: string): LinkMap {
  const href = `${base}/application/${seg(appId)}/cartridge/${seg(name)}`;
  const ev = (rel: string, event: string) =>
    link(rel, "POST", `${href}/events`, [param("event", "string", "event", [event])]);
  return {
    GET: link("Get cartridge", "GET", href),
    START: ev("Start cartridge", "start"),
    STOP: ev("Stop cartridge", "stop"),
    RESTART: ev("Restart cartridge", "restart"),
    RELOAD: ev("Reload cartridge", "reload"),
    DELETE: link("Delete cartridge", "DELETE", href),
  };
}
