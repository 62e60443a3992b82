// Representations (shared/reference/openshift-rest-api.md §4): domain views of services/broker/app/types.ts
// → the JSON rhc reads. Pure. `base` is the API base URL (https://host/broker/rest).

import type {
  AppCartridgeView,
  ApplicationLiveView,
  ApplicationView,
  AuthorizationView,
  CartridgeInfo,
  DistrictView,
  DomainView,
  EnvVar,
  GearRecordView,
  KeyView,
  NodeView,
  UserView,
} from "../app/types";
import {
  appCartridgeLinks,
  applicationLinks,
  authorizationLinks,
  domainLinks,
  keyLinks,
  seg,
  userLinks,
} from "./links";

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export function userRep(base: string, u: UserView) {
  return {
    id: u.id,
    login: u.login,
    role: u.role,
    consumed_gears: u.consumedGears,
    max_gears: u.maxGears,
    max_domains: u.maxDomains,
    plan_id: null,
    plan_state: null,
    usage_account_id: null,
    capabilities: { gear_sizes: ["small"], max_gears: u.maxGears, max_domains: u.maxDomains },
    creation_time: iso(u.createdAt),
    links: userLinks(base),
  };
}

export function keyRep(base: string, k: KeyView) {
  return { name: k.name, type: k.type, content: k.content, links: keyLinks(base, k.name) };
}

export function authorizationRep(base: string, a: AuthorizationView) {
  const expiresAt = a.createdAt.getTime() + a.expiresIn * 1000;
  return {
    id: a.id,
    ...(a.token !== undefined ? { token: a.token } : {}),
    note: a.note,
    scopes: a.scopes.join(" "),
    created_at: iso(a.createdAt),
    expires_in: a.expiresIn,
    expires_in_seconds: Math.max(0, Math.round((expiresAt - Date.now()) / 1000)),
    identity: null,
    links: authorizationLinks(base, a.id),
  };
}

export function domainRep(base: string, d: DomainView, suffix: string) {
  return {
    id: d.id,
    name: d.name,
    suffix,
    creation_time: iso(d.createdAt),
    allowed_gear_sizes: d.allowedGearSizes,
    members: [
      { id: d.ownerId, login: d.ownerLogin, name: d.ownerLogin, role: "admin", owner: true, type: "user" },
    ],
    links: domainLinks(base, d.name),
  };
}

export function catalogueRep(c: CartridgeInfo) {
  return {
    name: c.name,
    display_name: c.displayName,
    type: c.type,
    tags: c.tags,
    description: c.description,
    version: c.name.slice(c.name.lastIndexOf("-") + 1),
    usage_rates: [],
    links: {},
  };
}

export function appCartridgeRep(base: string, app: ApplicationView, c: AppCartridgeView) {
  return {
    name: c.name,
    display_name: c.displayName,
    type: c.type,
    tags: c.tags,
    description: c.description,
    properties: c.properties.map((p) => ({ name: p.name, value: p.value, type: p.type })),
    status_messages: c.status !== null ? [{ message: c.status, gear_id: app.gears[0]?.uuid ?? null }] : [],
    current_scale: 1,
    scales_from: 1,
    scales_to: 1,
    scales_with: null,
    supported_scales_from: 1,
    supported_scales_to: 1,
    base_gear_storage: 1,
    additional_gear_storage: 0,
    gear_profile: app.gearProfile,
    collocated_with: app.cartridges.filter((o) => o.name !== c.name).map((o) => o.name),
    usage_rates: [],
    links: appCartridgeLinks(base, app.id, c.name),
  };
}

function gitUrl(app: ApplicationView): string | null {
  const g = app.gears[0];
  if (!g) return null;
  const port = g.sshPort === 22 ? "" : `:${g.sshPort}`;
  return `ssh://${g.uuid}@${g.sshHost}${port}/~/git/${app.name}.git/`;
}

function sshUrl(app: ApplicationView): string | null {
  const g = app.gears[0];
  if (!g) return null;
  const port = g.sshPort === 22 ? "" : `:${g.sshPort}`;
  return `ssh://${g.uuid}@${g.sshHost}${port}`;
}

export function applicationRep(
  base: string,
  app: ApplicationView,
  opts: { includeCartridges?: boolean } = {},
) {
  const web = app.cartridges.find((c) => c.type === "standalone");
  const embedded: Record<string, Record<string, never>> = {};
  for (const c of app.cartridges) if (c.type === "embedded") embedded[c.name] = {};
  return {
    id: app.id,
    name: app.name,
    domain_id: app.domain,
    creation_time: iso(app.createdAt),
    app_url: `http://${app.fqdn}/`,
    git_url: gitUrl(app),
    ssh_url: sshUrl(app),
    health_check_path: "",
    gear_profile: app.gearProfile,
    gear_count: app.gears.length,
    scalable: false,
    ha: false,
    framework: web?.name ?? null,
    embedded,
    aliases: [],
    initial_git_url: null,
    building_app: null,
    building_with: null,
    build_job_url: null,
    auto_deploy: true,
    deployment_branch: "master",
    keep_deployments: 1,
    deployment_type: "git",
    members: [],
    state: app.state,
    ...(opts.includeCartridges
      ? { cartridges: app.cartridges.map((c) => appCartridgeRep(base, app, c)) }
      : {}),
    links: applicationLinks(base, app.id),
  };
}

export function envRep(base: string, appId: string, v: EnvVar) {
  return {
    name: v.name,
    value: v.value,
    links: {
      GET: {
        rel: "Get environment variable",
        method: "GET",
        href: `${base}/application/${seg(appId)}/environment-variables`,
        required_params: [],
        optional_params: [],
      },
    },
  };
}

export function gearGroupsRep(app: ApplicationView) {
  return [
    {
      id: app.id,
      name: app.name,
      gear_profile: app.gearProfile,
      scales_from: 1,
      scales_to: 1,
      base_gear_storage: 1,
      additional_gear_storage: 0,
      cartridges: app.cartridges.map((c) => ({ name: c.name, display_name: c.displayName, tags: c.tags })),
      gears: app.gears.map((g) => ({
        id: g.uuid,
        state: g.state,
        ssh_url: `ssh://${g.uuid}@${g.sshHost}${g.sshPort === 22 ? "" : `:${g.sshPort}`}`,
      })),
    },
  ];
}

// admin

export function districtRep(d: DistrictView) {
  return {
    name: d.name,
    uuid: d.uuid,
    gear_profile: d.gearProfile,
    first_uid: d.firstUid,
    max_uid: d.maxUid,
    max_capacity: d.maxCapacity,
    available_capacity: d.availableCapacity,
    nodes: d.nodes.map((n) => ({ name: n.name, active: n.active })),
    creation_time: iso(d.createdAt),
  };
}

export function nodeRep(n: NodeView) {
  return {
    name: n.name,
    district: n.district,
    active: n.active,
    responsive: n.responsive,
    last_seen: n.lastSeen ? iso(n.lastSeen) : null,
    profile: n.profile,
    active_gears: n.activeGears,
    max_active_gears: n.maxActiveGears,
    public_hostname: n.publicHostname,
    cartridges: n.cartridges,
  };
}

export function gearRecordRep(g: GearRecordView) {
  return {
    uuid: g.uuid,
    uid: g.uid,
    node: g.node,
    district: g.district,
    application: g.application,
    application_id: g.applicationId,
    domain: g.domain,
    fqdn: g.fqdn,
    cartridges: g.cartridges,
    state: g.state,
  };
}

/** The live state (`GET /application/:id/live-state`) in the wire's snake case. */
export function liveStateRep(v: ApplicationLiveView) {
  return {
    id: v.id,
    name: v.name,
    domain_id: v.domain,
    state: v.state,
    gear_profile: v.gearProfile,
    gears: v.gears.map((g) => ({
      id: g.uuid,
      uid: g.uid,
      node: g.node,
      present: g.present,
      error: g.error,
      phase: g.phase,
      gear_profile: g.profile,
      mcs_label: g.mcsLabel,
      cgroup: g.cgroup,
      drift: g.drift,
      cartridges: g.cartridges,
      route: g.route,
    })),
  };
}
