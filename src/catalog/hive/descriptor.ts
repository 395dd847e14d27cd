/**
 * The Hive Metastore catalog type's descriptor (`hive`): its settings and how to open one. The
 * catalog itself (and the Thrift library under it) is loaded when a hive catalog is opened, so
 * runs against other catalogs never load it.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { CatalogConfigBase, CatalogType } from '../catalog-type.ts';
import { bool, parseWith, positiveInt, text } from '../config-schema.ts';
import { parseMetastoreUris } from './metastore-uri.ts';

/** A `type: hive` catalog. */
export interface HiveCatalogConfig extends CatalogConfigBase {
  readonly type: 'hive';
  /** `thrift://host:port`, several comma-separated for HA (tried in order). */
  readonly uri: string;
  readonly lockTimeoutMs?: number;
  readonly lockCheckMinWaitMs?: number;
  readonly lockCheckMaxWaitMs?: number;
  readonly lockHeartbeatIntervalMs?: number;
  readonly connectTimeoutMs?: number;
  readonly callTimeoutMs?: number;
  readonly connectRetries?: number;
}

const THRIFT_URI = /^thrift:\/\//i;
const nonNegativeInt = z.coerce.number().int().min(0);

/**
 * The settings of a Hive catalog: PyIceberg's `uri` (and `warehouse`), and Java's lock settings
 * (`iceberg.hive.lock-timeout-ms`, ...; the `iceberg.hive.` prefix may be left out).
 */
export const hiveCatalogSchema = z.object({
  uri: text().refine((u) => u.split(',').every((p) => THRIFT_URI.test(p.trim())), {
    error: 'must be thrift://host:port (comma-separated for several metastores)',
  }),
  warehouse: text().optional(),
  'catalog-name': text().optional(),
  'lock-timeout-ms': positiveInt.optional(),
  'lock-check-min-wait-ms': positiveInt.optional(),
  'lock-check-max-wait-ms': positiveInt.optional(),
  'lock-heartbeat-interval-ms': positiveInt.optional(),
  'connect-timeout-ms': positiveInt.optional(),
  'call-timeout-ms': positiveInt.optional(),
  'connect-retries': nonNegativeInt.optional(),
  'hive.kerberos-authentication': bool.optional(),
});

/** Java's keys under `iceberg.hive.` (and PyIceberg's `hive.`) mean the same as the short ones. */
function unprefixed(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const short = k.replace(/^iceberg\.hive\./, '').replace(/^hive\.(?=lock-|connect-|call-)/, '');
    out[short] = v;
  }
  return out;
}

/** The Hive catalog type's descriptor. */
export const hiveCatalogType: CatalogType<HiveCatalogConfig> = {
  type: 'hive',
  aliases: [],
  description: "Apache Iceberg's HiveCatalog tables in a Hive Metastore (Thrift, 3.1 and 4.x)",
  schema: hiveCatalogSchema,
  // PyIceberg infers the type from the URI scheme too.
  inferFrom: (properties) => properties.uri !== undefined && THRIFT_URI.test(properties.uri),
  parse(where, raw, properties) {
    const d = parseWith(where, hiveCatalogSchema, unprefixed(raw));
    if (d['hive.kerberos-authentication']) {
      throw new ConfigError(
        `${where}.hive.kerberos-authentication: SASL/Kerberos metastores are not supported`,
      );
    }
    parseMetastoreUris(d.uri);
    return {
      type: 'hive',
      uri: d.uri,
      properties,
      ...(d['catalog-name'] ? { catalogName: d['catalog-name'] } : {}),
      ...(d.warehouse !== undefined ? { warehouse: d.warehouse } : {}),
      ...(d['lock-timeout-ms'] !== undefined ? { lockTimeoutMs: d['lock-timeout-ms'] } : {}),
      ...(d['lock-check-min-wait-ms'] !== undefined
        ? { lockCheckMinWaitMs: d['lock-check-min-wait-ms'] }
        : {}),
      ...(d['lock-check-max-wait-ms'] !== undefined
        ? { lockCheckMaxWaitMs: d['lock-check-max-wait-ms'] }
        : {}),
      ...(d['lock-heartbeat-interval-ms'] !== undefined
        ? { lockHeartbeatIntervalMs: d['lock-heartbeat-interval-ms'] }
        : {}),
      ...(d['connect-timeout-ms'] !== undefined ? { connectTimeoutMs: d['connect-timeout-ms'] } : {}),
      ...(d['call-timeout-ms'] !== undefined ? { callTimeoutMs: d['call-timeout-ms'] } : {}),
      ...(d['connect-retries'] !== undefined ? { connectRetries: d['connect-retries'] } : {}),
    };
  },
  async fromFlags(flags, configured) {
    const base = configured?.type === 'hive' ? (configured as HiveCatalogConfig) : undefined;
    const uri = flags.uri ?? base?.uri;
    if (!uri)
      throw new ConfigError('a hive catalog needs --catalog-uri thrift://host:port (or a configured uri)');
    if (!uri.split(',').every((p) => THRIFT_URI.test(p.trim()))) {
      throw new ConfigError(`--catalog-uri '${uri}': a hive catalog's uri is thrift://host:port`);
    }
    parseMetastoreUris(uri);
    return {
      ...(base ?? { properties: {} }),
      type: 'hive',
      uri,
      ...(flags.warehouse ? { warehouse: flags.warehouse } : {}),
    };
  },
  open: async (name, config, storageFor, options) => {
    const { HiveCatalog } = await import('./hive.ts');
    return HiveCatalog.open({
      name,
      addresses: parseMetastoreUris(config.uri),
      storageFor,
      readOnly: options.readOnly,
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      ...(config.lockTimeoutMs !== undefined ? { lockTimeoutMs: config.lockTimeoutMs } : {}),
      ...(config.lockCheckMinWaitMs !== undefined ? { lockCheckMinWaitMs: config.lockCheckMinWaitMs } : {}),
      ...(config.lockCheckMaxWaitMs !== undefined ? { lockCheckMaxWaitMs: config.lockCheckMaxWaitMs } : {}),
      ...(config.lockHeartbeatIntervalMs !== undefined
        ? { lockHeartbeatIntervalMs: config.lockHeartbeatIntervalMs }
        : {}),
      ...(config.connectTimeoutMs !== undefined ? { connectTimeoutMs: config.connectTimeoutMs } : {}),
      ...(config.callTimeoutMs !== undefined ? { callTimeoutMs: config.callTimeoutMs } : {}),
      ...(config.connectRetries !== undefined ? { connectRetries: config.connectRetries } : {}),
    });
  },
};
