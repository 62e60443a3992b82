// Cross-key rules: what the JSON schema cannot express. They read the data defensively (the schema may have
// failed too) so every problem is reported in the same run. Each rule runs on the manifest and again on
// every Version-Overrides entry merged over it; problems from keys the override does not set are then exact
// repeats and dropped. The endpoint rules are in endpoint-rules.ts.
import { DEFAULT_ENV_PREFIX } from "../../common/env-names";
import { isRecord, type PathSegment } from "../../common/ajv-errors";
import {
  RESERVED_CARTRIDGE_NAMES,
  RESERVED_VENDOR_NAMES,
  STANDARD_CONTROL_ACTIONS,
} from "../schema/manifest";
import { endpointRules } from "./endpoint-rules";
import type { Finding } from "./problems";
import { RESERVED_SHORT_NAMES } from "./variables";

/** A view of the manifest (or of one version's merged manifest) and where each key's problems go. */
interface View {
  readonly data: Record<string, unknown>;
  readonly at: (key: string) => PathSegment[];
}

export function crossKeyFindings(data: unknown): Finding[] {
  if (!isRecord(data)) return [];
  const views: View[] = [{ data, at: (key) => [key] }];
  const overrides = data["Version-Overrides"];
  if (isRecord(overrides)) {
    for (const [version, override] of Object.entries(overrides)) {
      if (!isRecord(override)) continue;
      views.push({
        data: { ...data, ...override },
        at: (key) => (key in override ? ["Version-Overrides", version, key] : [key]),
      });
    }
  }
  return [
    ...reservedNames(data),
    ...versionRules(data),
    ...sourceRules(data),
    ...views.flatMap((view) => [
      ...scalingRules(view),
      ...endpointRules(view.data.Endpoints, view.at("Endpoints"), data["Cartridge-Short-Name"]),
      ...featureRules(view),
      ...controlActionRules(view),
    ]),
  ];
}

function reservedNames(data: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  const name = data.Name;
  if (typeof name === "string" && RESERVED_CARTRIDGE_NAMES.includes(name))
    findings.push({
      at: ["Name"],
      message: `expected a cartridge name other than the reserved ${RESERVED_CARTRIDGE_NAMES.join(" and ")}, got "${name}" (the gear already has ~/${name}; rename the cartridge)`,
    });
  const vendor = data["Cartridge-Vendor"];
  if (typeof vendor === "string" && RESERVED_VENDOR_NAMES.includes(vendor))
    findings.push({
      at: ["Cartridge-Vendor"],
      message: `expected a vendor name of your own, got the reserved "${vendor}" (use your organisation's name, e.g. Cartridge-Vendor: mycompany)`,
    });
  const short = data["Cartridge-Short-Name"];
  if (typeof short === "string" && RESERVED_SHORT_NAMES.includes(short))
    findings.push({
      at: ["Cartridge-Short-Name"],
      message: `expected a short name the platform does not use, got the reserved "${short}" (its variables would mix with the gear's own ${DEFAULT_ENV_PREFIX}${short}_* variables; e.g. Cartridge-Short-Name: ${short}CART)`,
    });
  return findings;
}

function versionRules(data: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  const version = typeof data.Version === "string" ? data.Version : undefined;
  const versions = Array.isArray(data.Versions)
    ? data.Versions.filter((v): v is string => typeof v === "string")
    : undefined;
  if (version !== undefined && versions !== undefined && versions.length > 0 && !versions.includes(version))
    findings.push({
      at: ["Version"],
      message: `expected one of the Versions (${versions.join(", ")}), got "${version}" (add '${version}' to Versions or set Version to one of them)`,
    });
  const known = [...new Set([...(versions ?? []), ...(version !== undefined ? [version] : [])])];
  const overrides = data["Version-Overrides"];
  if (isRecord(overrides) && known.length > 0)
    for (const key of Object.keys(overrides))
      if (!known.includes(key))
        findings.push({
          at: ["Version-Overrides", key],
          message: `expected a software version listed in Version or Versions (${known.join(", ")}), got "${key}" (add '${key}' to Versions or remove this override)`,
        });
  return findings;
}

function sourceRules(data: Record<string, unknown>): Finding[] {
  if (data["Source-Md5"] === undefined || data["Source-Url"] !== undefined) return [];
  return [
    {
      at: ["Source-Md5"],
      message: "expected only together with Source-Url (add Source-Url, or remove Source-Md5)",
    },
  ];
}

function scalingRules(view: View): Finding[] {
  const categories = stringsOf(view.data.Categories);
  const external = categories.includes("external");
  const check = (scaling: unknown, at: PathSegment[]): Finding[] => {
    if (!isRecord(scaling)) return [];
    const findings: Finding[] = [];
    const { Min: min, Max: max } = scaling;
    for (const [key, value] of [
      ["Min", min],
      ["Max", max],
    ] as const)
      if (value === 0 && !external)
        findings.push({
          at: [...at, key],
          message: `expected ${key} >= 1 (0 is only for cartridges in the external category), got 0 (set ${key}: 1, or add external to Categories)`,
        });
    if (
      Number.isInteger(min) &&
      Number.isInteger(max) &&
      (max as number) >= 0 &&
      (min as number) > (max as number)
    )
      findings.push({
        at,
        message: `expected Min <= Max (Max -1 means no limit), got Min ${min} and Max ${max} (raise Max, lower Min, or set Max: -1)`,
      });
    return findings;
  };
  const findings = check(view.data.Scaling, view.at("Scaling"));
  const components = view.data.Components;
  if (isRecord(components))
    for (const [name, component] of Object.entries(components))
      if (isRecord(component))
        findings.push(...check(component.Scaling, [...view.at("Components"), name, "Scaling"]));
  return findings;
}

function featureRules(view: View): Finding[] {
  const provides = stringsOf(view.data.Provides);
  const name = typeof view.data.Name === "string" ? view.data.Name : undefined;
  const own = new Set([...provides, ...(name !== undefined ? [name] : [])]);
  const requires = stringsOf(view.data.Requires);
  const findings: Finding[] = [];
  for (const key of ["Requires", "Conflicts"] as const) {
    const list = view.data[key];
    if (!Array.isArray(list)) continue;
    list.forEach((feature, i) => {
      if (typeof feature !== "string") return;
      if (own.has(feature))
        findings.push({
          at: [...view.at(key), i],
          message: `expected a feature of another cartridge, got "${feature}", which this cartridge provides itself (remove it from ${key})`,
        });
      else if (key === "Conflicts" && requires.includes(feature))
        findings.push({
          at: [...view.at(key), i],
          message: `expected a feature this cartridge does not require, got "${feature}", also listed in Requires (remove it from one of the two)`,
        });
    });
  }
  return findings;
}

function controlActionRules(view: View): Finding[] {
  const actions = view.data["Additional-Control-Actions"];
  if (!Array.isArray(actions)) return [];
  const standard: readonly string[] = STANDARD_CONTROL_ACTIONS;
  const findings: Finding[] = [];
  actions.forEach((action, i) => {
    if (typeof action === "string" && standard.includes(action))
      findings.push({
        at: [...view.at("Additional-Control-Actions"), i],
        message: `expected an optional action, got "${action}", which bin/control always receives (remove it from the list)`,
      });
  });
  return findings;
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
