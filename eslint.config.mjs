// Flat config: typescript-eslint's recommended rules plus Pulumi's rules (no Outputs in template literals),
// and the layer rules (eslint-plugin-boundaries, docs/conventions.md "Layers").
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";
import boundaries from "eslint-plugin-boundaries";

/** The layers, lowest first: a file belongs to the first element whose pattern matches its path. */
export const LAYER_ELEMENTS = [
  { type: "common", pattern: "common/**", partialMatch: false },
  { type: "cartridges", pattern: "cartridges/**", partialMatch: false },
  // Host primitives know nothing of gears, cartridges or the CLI.
  { type: "node-host", pattern: "node/host/**", partialMatch: false },
  { type: "node", pattern: "node/**", partialMatch: false },
  { type: "plugins", pattern: "plugins/**", partialMatch: false },
  // Typed clients of our own services' APIs (the broker's REST API), shared by the CLI and the providers.
  { type: "clients", pattern: "clients/**", partialMatch: false },
  // Dynamic providers sit below the components, which compose them (as any Pulumi resource).
  { type: "providers", pattern: "providers/**", partialMatch: false },
  { type: "components", pattern: "components/**", partialMatch: false },
  { type: "services", pattern: "services/**", partialMatch: false },
  { type: "stacks", pattern: "stacks/**", partialMatch: false },
  // The policy pack runs from its own folder with its own node_modules: it imports only itself.
  { type: "policies", pattern: "policies/**", partialMatch: false },
];

const to = (...types) => ({ to: { element: { types: { anyOf: types } } } });

/** Who may import whom; anything not allowed here fails lint. */
/**
 * The node layer's doors: node/index.ts for every layer above it, and node/cli/main.ts, the command group that
 * only the `geartrain` dispatcher loads (lazily, so a command loads only what it uses).
 */
export const LAYER_FILES = [
  { category: "node-api", pattern: "node/index.ts" },
  { category: "node-cli", pattern: "node/cli/main.ts" },
  // node-wide plumbing (config, context, types, validators), below everything else in node/
  { category: "node-base", pattern: "node/*.ts" },
];
const nodeDoor = (...categories) => ({
  to: { element: { type: "node" }, file: { categories: { anyOf: categories } } },
});

export const LAYER_POLICIES = [
  { from: { element: { type: "common" } }, allow: to("common") },
  { from: { element: { type: "cartridges" } }, allow: to("cartridges", "common") },
  { from: { element: { type: "node-host" } }, allow: [to("node-host", "common"), nodeDoor("node-base")] },
  { from: { element: { type: "node" } }, allow: to("node-host", "node", "cartridges", "common") },
  { from: { element: { type: "plugins" } }, allow: to("plugins", "common") },
  { from: { element: { type: "clients" } }, allow: to("clients", "common") },
  {
    from: { element: { type: "providers" } },
    allow: [to("providers", "clients", "common"), nodeDoor("node-api")],
  },
  {
    from: { element: { type: "components" } },
    allow: [to("components", "providers", "common"), nodeDoor("node-api")],
  },
  {
    from: { element: { type: "services" } },
    allow: [to("services", "clients", "cartridges", "common"), nodeDoor("node-api", "node-cli")],
  },
  { from: { element: { type: "stacks" } }, allow: to("stacks", "components", "providers", "common") },
  { from: { element: { type: "policies" } }, allow: to("policies") },
];

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { "@pulumi": pulumi },
    languageOptions: {
      parserOptions: { project: ["./tsconfig.test.json"], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    // Production code only: tests and benches may reach into any layer to test it.
    files: ["{common,cartridges,node,plugins,clients,providers,components,services,stacks,policies}/**/*.ts"],
    plugins: { boundaries },
    settings: {
      "boundaries/elements": LAYER_ELEMENTS,
      "boundaries/files": LAYER_FILES,
      "boundaries/root-path": import.meta.dirname,
      "import/resolver": { node: { extensions: [".ts", ".js", ".json"] } },
    },
    rules: {
      "boundaries/dependencies": [2, { default: "disallow", policies: LAYER_POLICIES }],
    },
  },
);
