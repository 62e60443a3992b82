// The pack's policies over the pure rules (rules.ts), without the PolicyPack itself (whose constructor
// starts serving), so that unit tests can run them with fabricated resources.
import type {
  Policies,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import {
  DEFAULT_MIN_BROKERS,
  DEFAULT_STRICT_STACKS,
  RULE_CHECKS,
  RULES,
  type RuleInput,
  type RuleName,
  type RuleResource,
} from "./rules";

// For tests outside this folder, which cannot resolve the pack's own @pulumi/policy.
export type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

/** Policy config of stage-prod-topology (`--policy-pack-config`). */
export interface TopologyConfig {
  /** stack names that are stage or production @default ["stage", "staging", "prod", "production"] */
  readonly strictStacks?: readonly string[];
  /** @default 2 */
  readonly minBrokers?: number;
}

/** Where the engine's stack and config reach the pack (the language host sets them, docs/toolchain.md). */
export interface PackEnvironment {
  readonly stack: string;
  readonly config: Readonly<Record<string, string>>;
  /** undefined when the language host did not say which keys are secret */
  readonly secretKeys: readonly string[] | undefined;
}

function jsonOf(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function environmentOf(env: NodeJS.ProcessEnv = process.env): PackEnvironment {
  const config = jsonOf(env.PULUMI_CONFIG);
  const keys = jsonOf(env.PULUMI_CONFIG_SECRET_KEYS);
  return {
    stack: env.PULUMI_NODEJS_STACK ?? "",
    config: typeof config === "object" && config !== null ? (config as Record<string, string>) : {},
    secretKeys: Array.isArray(keys) ? keys.filter((k): k is string => typeof k === "string") : undefined,
  };
}

/**
 * The pack's policies: `collect-inputs` (records each resource's inputs, reports nothing) and one stack
 * policy per rule. `env` is read when the stack policies run.
 */
export function packPolicies(env: () => PackEnvironment = () => environmentOf()): Policies {
  const inputs = new Map<string, RuleResource>();
  const resourceOf = (r: PolicyResource): RuleResource =>
    inputs.get(r.urn) ?? { type: r.type, urn: r.urn, name: r.name, props: r.props };
  const ruleInput = (args: StackValidationArgs, config: TopologyConfig): RuleInput => {
    const { stack, config: stackConfig, secretKeys } = env();
    return {
      stack,
      config: stackConfig,
      secretKeys: secretKeys ?? [],
      resources: args.resources.map(resourceOf),
      strictStacks: config.strictStacks ?? DEFAULT_STRICT_STACKS,
      minBrokers: config.minBrokers ?? DEFAULT_MIN_BROKERS,
    };
  };
  const rule = (name: RuleName): Policies[number] => ({
    name,
    description: RULES[name],
    ...(name === "stage-prod-topology"
      ? {
          configSchema: {
            properties: {
              strictStacks: { type: "array", items: { type: "string" } },
              minBrokers: { type: "integer", minimum: 1 },
            },
          },
        }
      : {}),
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      // Without the secret keys every secret would look plain: the rule cannot judge (upstream's host).
      if (name === "no-plain-secrets" && env().secretKeys === undefined)
        args.notApplicable("the language host gave the pack no PULUMI_CONFIG_SECRET_KEYS");
      const config = name === "stage-prod-topology" ? args.getConfig<TopologyConfig>() : {};
      for (const v of RULE_CHECKS[name](ruleInput(args, config))) report(v.message, v.urn);
    },
  });
  return [
    {
      name: "collect-inputs",
      description: "records each resource's inputs for the stack rules; reports nothing",
      enforcementLevel: "advisory",
      validateResource: (args: ResourceValidationArgs) => {
        inputs.set(args.urn, { type: args.type, urn: args.urn, name: args.name, props: args.props });
      },
    },
    ...(Object.keys(RULES) as RuleName[]).map(rule),
  ];
}
