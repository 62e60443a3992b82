// The Geartrain program: the same for every stack (dev, stage, prod); only the stack config differs. The
// topology is validated before anything is declared (./config.ts), then the Platform builds it all, and the
// topology's applications (`apps[]`) are declared on it once it is up (components/platform-apps).
import { Platform } from "../components/platform";
import { PlatformApps } from "../components/platform-apps";
import { loadPlatformConfig, loadPlatformInputs, projectRoot } from "./config";

const topology = loadPlatformConfig();
const platform = new Platform("geartrain", { topology, ...loadPlatformInputs(topology) });
const declared =
  topology.apps.length > 0
    ? new PlatformApps("geartrain-apps", { platform, apps: topology.apps, rootDirectory: projectRoot() })
    : undefined;

export const domain = topology.domain;
export const brokerUrl = platform.brokerUrl;
export const brokerUrls = platform.brokerUrls;
export const admin = platform.admin;
export const dnsServer = platform.dnsServer;
export const nodes = platform.nodes;
export const userData = platform.userData;
/** The platform's certificate (PEM; public): what clients trust for `https://<app>-<ns>.<domain>`. */
export const certificate = platform.certificate.certificate;
/** The topology's applications by `<name>-<domain>`: `{url, gitUrl, commit}` ({} without any). */
export const apps = declared?.apps ?? {};
