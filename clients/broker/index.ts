// The typed client of the broker's REST API (OpenShift v2, API 1.7), shared by the `geartrain` CLI and the
// Pulumi providers (#12). docs/control-plane.md "CLI" says what it does.

export {
  BrokerClient,
  type AppEvent,
  type ClientOptions,
  type Credentials,
  type NewApplication,
  type RequestOptions,
} from "./client";
export {
  API_VERSION,
  apiRoot,
  BrokerConflictError,
  BrokerFailedError,
  BrokerNotFoundError,
  BrokerRefusedError,
  BrokerUnavailableError,
  BrokerValidationError,
  findLink,
  hasParam,
  type Envelope,
  type LinkMap,
  type WireLink,
  type WireMessage,
} from "./model";
export type * from "./types";
