// Crash injection for the kill -9 tests (test/node/lifecycle.test.ts, disk.test.ts).

/**
 * When GEARTRAIN_TEST_CRASH_AT names this step, the process SIGKILLs itself right there, exactly as an
 * operator's kill -9 or a power cut would stop it.
 */
export function crashPoint(step: string): void {
  if (process.env.GEARTRAIN_TEST_CRASH_AT === step) process.kill(process.pid, "SIGKILL");
}
