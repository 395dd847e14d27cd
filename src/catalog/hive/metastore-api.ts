/**
 * The part of the Hive Metastore's Thrift API (hive_metastore.thrift, `ThriftHiveMetastore`) the
 * Hive catalog uses, as descriptors for thrift-codec.ts: field ids and types as the IDL declares
 * them in Hive 3.1 and 4.x (the fields used here are the same in both).
 */
import { type StructDef, type StructValue, struct, type ThriftType } from './thrift-codec.ts';

const strMap: ThriftType = { map: ['string', 'string'] };

export const FieldSchema = struct('FieldSchema', [
  [1, 'name', 'string'],
  [2, 'type', 'string'],
  [3, 'comment', 'string'],
]);

export const SerDeInfo = struct('SerDeInfo', [
  [1, 'name', 'string'],
  [2, 'serializationLib', 'string'],
  [3, 'parameters', strMap],
]);

export const StorageDescriptor = struct('StorageDescriptor', [
  [1, 'cols', { list: { struct: FieldSchema } }],
  [2, 'location', 'string'],
  [3, 'inputFormat', 'string'],
  [4, 'outputFormat', 'string'],
  [5, 'compressed', 'bool'],
  [6, 'numBuckets', 'i32'],
  [7, 'serdeInfo', { struct: SerDeInfo }],
  [8, 'bucketCols', { list: 'string' }],
  // 9 sortCols (list<Order>), 11 skewedInfo: kept as unknown fields.
  [10, 'parameters', strMap],
  [12, 'storedAsSubDirectories', 'bool'],
]);

export const Table = struct('Table', [
  [1, 'tableName', 'string'],
  [2, 'dbName', 'string'],
  [3, 'owner', 'string'],
  [4, 'createTime', 'i32'],
  [5, 'lastAccessTime', 'i32'],
  [6, 'retention', 'i32'],
  [7, 'sd', { struct: StorageDescriptor }],
  [8, 'partitionKeys', { list: { struct: FieldSchema } }],
  [9, 'parameters', strMap],
  [10, 'viewOriginalText', 'string'],
  [11, 'viewExpandedText', 'string'],
  [12, 'tableType', 'string'],
]);

export const Database = struct('Database', [
  [1, 'name', 'string'],
  [2, 'description', 'string'],
  [3, 'locationUri', 'string'],
  [4, 'parameters', strMap],
]);

export const EnvironmentContext = struct('EnvironmentContext', [[1, 'properties', strMap]]);

export const GetTableRequest = struct('GetTableRequest', [
  [1, 'dbName', 'string'],
  [2, 'tblName', 'string'],
]);
export const GetTableResult = struct('GetTableResult', [[1, 'table', { struct: Table }]]);

/** LockType, LockLevel and LockState of the IDL. */
export const LockType = { SHARED_READ: 1, SHARED_WRITE: 2, EXCLUSIVE: 3 } as const;
export const LockLevel = { DB: 1, TABLE: 2, PARTITION: 3 } as const;
export const LockState = { ACQUIRED: 1, WAITING: 2, ABORT: 3, NOT_ACQUIRED: 4 } as const;

export const LockComponent = struct('LockComponent', [
  [1, 'type', 'i32'],
  [2, 'level', 'i32'],
  [3, 'dbname', 'string'],
  [4, 'tablename', 'string'],
]);
export const LockRequest = struct('LockRequest', [
  [1, 'component', { list: { struct: LockComponent } }],
  [2, 'txnid', 'i64'],
  [3, 'user', 'string'],
  [4, 'hostname', 'string'],
  [5, 'agentInfo', 'string'],
]);
export const LockResponse = struct('LockResponse', [
  [1, 'lockid', 'i64'],
  [2, 'state', 'i32'],
  [3, 'errorMessage', 'string'],
]);
export const CheckLockRequest = struct('CheckLockRequest', [[1, 'lockid', 'i64']]);
export const UnlockRequest = struct('UnlockRequest', [[1, 'lockid', 'i64']]);
export const HeartbeatRequest = struct('HeartbeatRequest', [[1, 'lockid', 'i64']]);
export const ShowLocksRequest = struct('ShowLocksRequest', [
  [1, 'dbname', 'string'],
  [2, 'tablename', 'string'],
]);
/** The fields read of a lock `show_locks` lists (the others are kept undecoded). */
export const ShowLocksResponseElement = struct('ShowLocksResponseElement', [
  [1, 'lockid', 'i64'],
  [2, 'dbname', 'string'],
  [3, 'tablename', 'string'],
  [5, 'state', 'i32'],
  [10, 'user', 'string'],
  [11, 'hostname', 'string'],
  [13, 'agentInfo', 'string'],
]);
export const ShowLocksResponse = struct('ShowLocksResponse', [
  [1, 'locks', { list: { struct: ShowLocksResponseElement } }],
]);

/** Every exception the methods below declare has its message in field 1. */
const exception = (name: string) => struct(name, [[1, 'message', 'string']]);

/** One method: its argument struct, its success type (absent for `void`) and declared exceptions. */
export interface MethodDef {
  readonly name: string;
  readonly args: StructDef;
  readonly returns?: ThriftType;
  /** By result field id. */
  readonly throws: readonly (readonly [number, string])[];
}

function method(
  name: string,
  args: readonly [number, string, ThriftType][],
  returns: ThriftType | undefined,
  throws: readonly string[],
): MethodDef {
  return {
    name,
    args: struct(`${name}_args`, args),
    ...(returns !== undefined ? { returns } : {}),
    throws: throws.map((t, i) => [i + 1, t] as const),
  };
}

/** The result struct of `m`: field 0 the success value, 1.. the declared exceptions. */
export function resultStruct(m: MethodDef): StructDef {
  return struct(`${m.name}_result`, [
    ...(m.returns !== undefined ? ([[0, 'success', m.returns]] as [number, string, ThriftType][]) : []),
    ...m.throws.map(([id, name]) => [id, name, { struct: exception(name) }] as [number, string, ThriftType]),
  ]);
}

export const M = {
  /** fb303's version call, which HMSHandler answers with the metastore's version. */
  getVersion: method('getVersion', [], 'string', []),
  getAllDatabases: method('get_all_databases', [], { list: 'string' }, ['MetaException']),
  getDatabase: method('get_database', [[1, 'name', 'string']], { struct: Database }, [
    'NoSuchObjectException',
    'MetaException',
  ]),
  createDatabase: method('create_database', [[1, 'database', { struct: Database }]], undefined, [
    'AlreadyExistsException',
    'InvalidObjectException',
    'MetaException',
  ]),
  getAllTables: method('get_all_tables', [[1, 'db_name', 'string']], { list: 'string' }, ['MetaException']),
  /** Present in 3.x and 4.x (4.x removed `get_table`). */
  getTableReq: method(
    'get_table_req',
    [[1, 'req', { struct: GetTableRequest }]],
    { struct: GetTableResult },
    ['MetaException', 'NoSuchObjectException'],
  ),
  createTableWithEnvironmentContext: method(
    'create_table_with_environment_context',
    [
      [1, 'tbl', { struct: Table }],
      [2, 'environment_context', { struct: EnvironmentContext }],
    ],
    undefined,
    ['AlreadyExistsException', 'InvalidObjectException', 'MetaException', 'NoSuchObjectException'],
  ),
  dropTable: method(
    'drop_table',
    [
      [1, 'dbname', 'string'],
      [2, 'name', 'string'],
      [3, 'deleteData', 'bool'],
    ],
    undefined,
    ['NoSuchObjectException', 'MetaException'],
  ),
  alterTableWithEnvironmentContext: method(
    'alter_table_with_environment_context',
    [
      [1, 'dbname', 'string'],
      [2, 'tbl_name', 'string'],
      [3, 'new_tbl', { struct: Table }],
      [4, 'environment_context', { struct: EnvironmentContext }],
    ],
    undefined,
    ['InvalidOperationException', 'MetaException'],
  ),
  lock: method('lock', [[1, 'rqst', { struct: LockRequest }]], { struct: LockResponse }, [
    'NoSuchTxnException',
    'TxnAbortedException',
  ]),
  checkLock: method('check_lock', [[1, 'rqst', { struct: CheckLockRequest }]], { struct: LockResponse }, [
    'NoSuchTxnException',
    'TxnAbortedException',
    'NoSuchLockException',
  ]),
  unlock: method('unlock', [[1, 'rqst', { struct: UnlockRequest }]], undefined, [
    'NoSuchLockException',
    'TxnOpenException',
  ]),
  /** The locks on a table: finds a lock whose `lock` reply was lost, and names a holder. */
  showLocks: method(
    'show_locks',
    [[1, 'rqst', { struct: ShowLocksRequest }]],
    { struct: ShowLocksResponse },
    ['MetaException'],
  ),
  heartbeat: method('heartbeat', [[1, 'ids', { struct: HeartbeatRequest }]], undefined, [
    'NoSuchLockException',
    'NoSuchTxnException',
    'TxnAbortedException',
  ]),
} as const;

/** Typed views of the structs the catalog reads and builds. */
export interface HiveFieldSchema extends StructValue {
  name: string;
  type: string;
  comment?: string;
}
export interface HiveStorageDescriptor extends StructValue {
  cols?: HiveFieldSchema[];
  location?: string;
  inputFormat?: string;
  outputFormat?: string;
  compressed?: boolean;
  numBuckets?: number;
  serdeInfo?: StructValue & { name?: string; serializationLib?: string; parameters?: Record<string, string> };
  bucketCols?: string[];
  parameters?: Record<string, string>;
  storedAsSubDirectories?: boolean;
}
export interface HiveTable extends StructValue {
  tableName?: string;
  dbName?: string;
  owner?: string;
  createTime?: number;
  lastAccessTime?: number;
  retention?: number;
  sd?: HiveStorageDescriptor;
  partitionKeys?: HiveFieldSchema[];
  parameters?: Record<string, string>;
  tableType?: string;
}
/** One lock of a `show_locks` reply. */
export interface HiveShowLocksElement extends StructValue {
  lockid: bigint;
  dbname: string;
  tablename?: string;
  state: number;
  user: string;
  hostname: string;
  agentInfo?: string;
}
export interface HiveLockResponse extends StructValue {
  lockid: bigint;
  state: number;
  errorMessage?: string;
}
