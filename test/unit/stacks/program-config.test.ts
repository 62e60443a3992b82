// The program refuses a stage stack whose config lacks the SSH key and the certificate, naming the key.
import { runProgram } from "./program-harness";

it("a stage stack without the SSH key or the certificate fails naming the config key", async () => {
  await expect(runProgram("stage", {}, [])).rejects.toThrow(/geartrain:(sshPrivateKey|tlsCertificate)/);
});
