// The broker's DNS: the DnsUpdater contract and its nsupdate implementation (docs/control-plane.md "DNS").

export {
  DEFAULT_TTL,
  appRecordName,
  parseTsigKeyFile,
  type DnsRecord,
  type DnsRecordName,
  type DnsRecordType,
  type DnsUpdater,
  type NsupdateConfig,
  type TsigKey,
} from "./model";
export { NSUPDATE, NsupdateDnsUpdater, type NsupdateOptions } from "./operations";
