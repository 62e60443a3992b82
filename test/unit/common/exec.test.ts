// common/exec.ts: argv in, exit code or signal out (never a rejection for a non-zero exit), stdin fed and
// closed, the environment replaced when given, the timeout's signal, a missing program as SpawnError, the
// output cap, and a program that exits without reading its input.
import { runProgram, SpawnError } from "../../../common/exec";

it("gives the exit code and both outputs; a non-zero exit resolves", async () => {
  const r = await runProgram(["/bin/sh", "-c", 'echo out; echo err >&2; exit "$1"', "sh", "3"]);
  expect(r).toEqual({ code: 3, signal: null, stdout: "out\n", stderr: "err\n" });
});

it("writes the input to stdin and closes it", async () => {
  const r = await runProgram(["/bin/cat"], { input: "hé\nthere" });
  expect(r).toMatchObject({ code: 0, stdout: "hé\nthere" });
});

it("replaces the environment when one is given", async () => {
  const r = await runProgram(["/usr/bin/env"], { env: { ONLY: "this" } });
  expect(r.stdout).toBe("ONLY=this\n");
});

it("kills at the timeout with the given signal", async () => {
  const r = await runProgram(["/bin/sleep", "30"], { timeoutMs: 100, killSignal: "SIGKILL" });
  expect(r).toMatchObject({ code: null, signal: "SIGKILL" });
});

it("rejects with SpawnError naming the program and the errno when it cannot start", async () => {
  const err = await runProgram(["/nonexistent/tool", "x"]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SpawnError);
  expect(err).toMatchObject({ program: "/nonexistent/tool", code: "ENOENT" });
  expect((err as Error).message).toBe("cannot run /nonexistent/tool: ENOENT");
});

it("kills a program that prints more than the cap, and says which stream", async () => {
  const err = await runProgram(["/usr/bin/yes"], { maxOutputBytes: 64 * 1024 }).catch((e: unknown) => e);
  expect((err as Error).message).toBe("/usr/bin/yes printed more than 65536 bytes on stdout: killed");
});

it("a program that exits without reading its input still gives its exit status", async () => {
  const r = await runProgram(["/bin/sh", "-c", "exit 4"], { input: "x".repeat(4 * 1024 * 1024) });
  expect(r.code).toBe(4);
});

it("refuses an empty argv", async () => {
  await expect(runProgram([])).rejects.toThrow("runProgram: empty argv");
});
