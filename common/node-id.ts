// A node's identity: its agent's queue and facts topic are named after it (`geartrain.node.<node>`), so no
// '.', '>', '*', ',' or spaces. Shared by the bus wire schemas (services/bus), the agent config schema
// (common/config/agent-config.ts) and the NodeHost component.

/** A node identity, as a JSON Schema pattern. */
export const NODE_ID_PATTERN = "^[a-z0-9][a-z0-9_-]{0,62}$";
