// Writes an ActiveMQ instance directory for scripts/services/activemq.sh: conf/activemq.xml (no secrets),
// conf/credentials.properties (the passwords and, over TLS, the key store's password, 0600), conf/log4j.properties and conf/stomp.listen (the
// address and port the script waits for). The rendering is pure (render.ts); this only writes files.

import { chmodSync, mkdirSync, writeFileSync } from "fs";
import * as path from "path";
import {
  renderActiveMQXml,
  renderCredentials,
  renderLog4j,
  resolveActiveMQSpec,
  type ActiveMQSpec,
} from "../../../common/render/activemq";

export function writeActiveMQInstance(
  dir: string,
  spec: ActiveMQSpec,
  passwords: Readonly<Record<string, string>>,
  /** required when spec.tls is set (the key store itself is the caller's to put at spec.tls.keyStore) */
  keyStorePassword?: string,
): void {
  const s = resolveActiveMQSpec(spec);
  const credentials = renderCredentials(s, passwords, keyStorePassword); // validates before anything is written
  const conf = path.join(dir, "conf");
  mkdirSync(conf, { recursive: true, mode: 0o750 });
  mkdirSync(path.join(dir, "data"), { recursive: true, mode: 0o750 });
  writeFileSync(path.join(conf, "activemq.xml"), renderActiveMQXml(s), { mode: 0o640 });
  const cred = path.join(conf, "credentials.properties");
  writeFileSync(cred, credentials, { mode: 0o600 });
  chmodSync(cred, 0o600);
  writeFileSync(path.join(conf, "log4j.properties"), renderLog4j(), { mode: 0o640 });
  writeFileSync(path.join(conf, "stomp.listen"), `${s.address} ${s.port}\n`, { mode: 0o640 });
}
