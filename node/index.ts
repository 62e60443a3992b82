// The node layer's public surface: the one way into node/ for the broker, the agent and the providers (lint
// enforces it: eslint.config.mjs, docs/conventions.md). The `geartrain node` command group has its own door,
// cli/main.ts, which only the dispatcher loads, lazily. The implementation lives in host/ (primitives), gear/
// (the gear aggregate), cartridge/, frontend/, deploy/, quickstart/ and cli/.

export type {
  Drift,
  FrontendConfig,
  FrontendTlsConfig,
  GearAddresses,
  GearCartridgeState,
  GearSpec,
  GearState,
  NodeConfig,
  Profile,
} from "./types";
export { makeContext, type NodeContext } from "./context";
export type { Frontend } from "./frontend/node-frontend";

// Errors: every one carries kind, exitCode and httpStatus (common/errors.ts); the broker answers with
// httpStatus, the agent replies with kind, the CLIs print them through failFor (common/cli-fail.ts).
export {
  ConflictError,
  errorJson,
  EXIT,
  GeartrainError,
  NotFoundError,
  OperationFailedError,
  RefusedError,
  reportOf,
  UnavailableError,
  UsageError,
  ValidationError,
  type ErrorKind,
  type ErrorReport,
} from "../common/errors";
export { failFor, type FailIo, type FailOptions } from "../common/cli-fail";
export { CartridgeError } from "../cartridges/manifest";
export { CommandError } from "./host/exec";
export { IsolationUnavailableError } from "./host/netfilter";
export { UnsafeGearPathError } from "./host/gear-fs";
export { GearNotFoundError } from "./gear/marker";
export { CartridgeNotFoundError } from "./cartridge/repository";
export { HookError } from "./cartridge/hooks";
export { FrontendError } from "./frontend/nginx";
export { DeployFailedError } from "./deploy/model";
export { defaultConfig, loadConfig, resolveConfig, DEFAULT_CONFIG_PATH, CONFIG_ENV } from "./config";
// the frontend's shared nginx file, for the NodeHost component that sets up the node's nginx
export { renderBaseConf as renderFrontendBaseConf, BASE_FILE as FRONTEND_BASE_FILE } from "./frontend/render";

// Gears
export {
  createGear,
  destroyGear,
  inspectGear,
  listGears,
  updateGear,
  type CreateOptions,
  type DestroyResult,
  type GearSummary,
} from "./gear/lifecycle";
export { runInGear } from "./gear/run-in-gear";
export { checkNode, type CheckItem, type CheckReport } from "./check";
export { gearAddresses } from "./host/addresses";
export { mcsLabel, MCS_LABEL_COUNT } from "./host/mcs";

// Cartridges
export { installCartridge, type InstallResult } from "./cartridge/install";
export { removeCartridge, type RemoveResult } from "./cartridge/remove";
export { cartridgeStatus, controlCartridge, type ControlResult } from "./cartridge/control";
export { connectGearApp, type ConnectResult } from "./cartridge/connections";
export type { CartridgeOptions } from "./cartridge/frontend";
export { addToRepository, listRepository, type RepositoryEntry } from "./cartridge/repository";
export { idleGear, startGearCartridges } from "./cartridge/idle";

// Frontend
export {
  listGearFrontends,
  readGearFrontend,
  removeGearFrontend,
  setGearFrontend,
  syncGearFrontends,
  type FrontendRoute,
  type FrontendSyncResult,
  type GearFrontendSpec,
} from "./frontend/operations";

// Git deploys
export {
  deployGear,
  gearDeployments,
  type GearDeployResult,
  type GearDeployments,
} from "./deploy/operations";
export { addSshKey, listSshKeys, removeSshKey, type SshKeysResult } from "./deploy/ssh-keys";
export { configureDeploys, initAppRepository } from "./deploy/repo";

// Quickstarts
export {
  runQuickstart,
  QUICKSTARTS,
  type QuickstartName,
  type QuickstartResult,
} from "./quickstart/guestbook";
