// The software versions a manifest covers, and the manifest and ident as installed for one of them.
import { deepFreeze } from "../../common/deep-freeze";
import type { Manifest } from "../schema/manifest";

/** Every software version the manifest covers: Versions plus Version (as OpenShift's raw_versions). */
export function softwareVersions(manifest: Pick<Manifest, "Version" | "Versions">): string[] {
  return [...new Set([...(manifest.Versions ?? []), manifest.Version])];
}

/**
 * The manifest as installed for one software version: the `Version-Overrides` entry of that version merged
 * over the top-level keys, and `Version` set to it. Throws when the manifest does not cover the version.
 */
export function manifestForVersion(manifest: Manifest, version: string = manifest.Version): Manifest {
  const versions = softwareVersions(manifest);
  if (!versions.includes(version))
    throw new Error(
      `cartridge ${manifest.Name} has no software version ${version} (it has ${versions.join(", ")})`,
    );
  const override = manifest["Version-Overrides"]?.[version] ?? {};
  return deepFreeze({ ...manifest, ...override, Version: version });
}

/** OpenShift's cartridge ident `<vendor>:<name>:<software version>:<cartridge version>`. */
export function cartridgeIdent(manifest: Manifest, version: string = manifest.Version): string {
  return [manifest["Cartridge-Vendor"], manifest.Name, version, manifest["Cartridge-Version"]].join(":");
}
