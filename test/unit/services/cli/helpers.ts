import { testCli as makeTestCli, type TestCli } from "../../../helpers/cli-context";

export type { TestCli };

/** test/helpers/cli-context.ts's testCli with progress lines every 20 ms. */
export function testCli(): TestCli {
  return makeTestCli({ progressMs: 20 });
}
