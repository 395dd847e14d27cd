/** The metastore list of a Hive catalog's `uri`. */
import { ConfigError } from '../../errors.ts';
import type { MetastoreAddress } from './metastore-client.ts';

/** Parses `thrift://host:port[,thrift://host2:port2...]` (PyIceberg's and Java's `uri`). */
export function parseMetastoreUris(uri: string): MetastoreAddress[] {
  const out: MetastoreAddress[] = [];
  for (const part of uri.split(',').map((s) => s.trim())) {
    if (part === '') continue;
    const m = /^thrift:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/i.exec(part);
    if (!m) throw new ConfigError(`bad metastore uri '${part}': expected thrift://host:port`);
    const port = Number(m[2] ?? 9083);
    if (!(port > 0 && port < 65536)) throw new ConfigError(`bad metastore uri '${part}': port out of range`);
    out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  if (out.length === 0) throw new ConfigError('metastore uri is empty: expected thrift://host:port');
  return out;
}
