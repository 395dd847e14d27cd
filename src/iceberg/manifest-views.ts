/**
 * Typed read-only views of manifest list entries and manifest entries. Records stay generic Avro
 * records (see `manifest-codec.ts`); a view reads the fields the tool needs by their Iceberg
 * table spec names, naming the file and field when one is missing or of the wrong type.
 */
import type { AvroRecord, AvroValue } from '../avro/schema.ts';
import { CorruptFileError } from '../errors.ts';

/** Summary of one partition field over a manifest's files (`partitions` of a manifest list entry). */
export interface PartitionFieldSummaryView {
  readonly containsNull: boolean;
  readonly containsNan?: boolean;
  readonly lowerBound?: Uint8Array;
  readonly upperBound?: Uint8Array;
}

/** Typed view of a manifest list entry (`manifest_file`). */
export interface ManifestFileView {
  readonly manifestPath: string;
  readonly manifestLength: bigint;
  readonly partitionSpecId: number;
  /** 0 data, 1 deletes (v1 has no field: 0). */
  readonly content: 0 | 1;
  /** v2+. */
  readonly sequenceNumber?: bigint;
  /** v2+. */
  readonly minSequenceNumber?: bigint;
  /** Required from v2; some v1 writers leave it null. */
  readonly addedSnapshotId?: bigint;
  readonly addedFilesCount?: number;
  readonly existingFilesCount?: number;
  readonly deletedFilesCount?: number;
  readonly addedRowsCount?: bigint;
  readonly existingRowsCount?: bigint;
  readonly deletedRowsCount?: bigint;
  readonly partitions?: readonly PartitionFieldSummaryView[];
  readonly keyMetadata?: Uint8Array;
  /** v3 row lineage. */
  readonly firstRowId?: bigint;
}

/** Typed view of a manifest's `data_file`. */
export interface DataFileView {
  /** 0 data, 1 position deletes, 2 equality deletes (v1 has no field: 0). */
  readonly content: 0 | 1 | 2;
  readonly filePath: string;
  /** `PARQUET`, `AVRO`, `ORC` or `PUFFIN`, as written. */
  readonly fileFormat: string;
  readonly partition: AvroRecord;
  readonly recordCount: bigint;
  readonly fileSizeInBytes: bigint;
  /** v1 only. */
  readonly blockSizeInBytes?: bigint;
  readonly columnSizes?: Map<number, bigint>;
  readonly valueCounts?: Map<number, bigint>;
  readonly nullValueCounts?: Map<number, bigint>;
  readonly nanValueCounts?: Map<number, bigint>;
  readonly distinctCounts?: Map<number, bigint>;
  readonly lowerBounds?: Map<number, Uint8Array>;
  readonly upperBounds?: Map<number, Uint8Array>;
  readonly keyMetadata?: Uint8Array;
  readonly splitOffsets?: readonly bigint[];
  readonly equalityIds?: readonly number[];
  readonly sortOrderId?: number;
  /** v3 row lineage. */
  readonly firstRowId?: bigint;
  /** v2+ position deletes and v3 deletion vectors: the data file they apply to. */
  readonly referencedDataFile?: string;
  /** v3 deletion vectors: offset of the blob in the Puffin file. */
  readonly contentOffset?: bigint;
  /** v3 deletion vectors: length of the blob. */
  readonly contentSizeInBytes?: bigint;
}

/** Typed view of a manifest entry (`manifest_entry`). */
export interface ManifestEntryView {
  /** 0 existing, 1 added, 2 deleted. */
  readonly status: 0 | 1 | 2;
  /** Null in v2+ entries that inherit it from the manifest list. */
  readonly snapshotId?: bigint;
  readonly sequenceNumber?: bigint;
  readonly fileSequenceNumber?: bigint;
  readonly dataFile: DataFileView;
}

/** Reads typed fields of one record, naming the file and field in errors. */
class Fields {
  readonly rec: AvroRecord;
  private readonly file: string;
  private readonly prefix: string;
  constructor(rec: AvroRecord, file: string, prefix: string) {
    this.rec = rec;
    this.file = file;
    this.prefix = prefix;
  }

  private bad(name: string, expected: string): CorruptFileError {
    return new CorruptFileError(this.file, `field ${this.prefix}${name} is missing or not ${expected}`);
  }

  private value(name: string): AvroValue | undefined {
    const v = this.rec[name];
    return v === null ? undefined : v;
  }

  str(name: string): string {
    const v = this.value(name);
    if (typeof v !== 'string') throw this.bad(name, 'a string');
    return v;
  }
  optStr(name: string): string | undefined {
    const v = this.value(name);
    if (v !== undefined && typeof v !== 'string') throw this.bad(name, 'a string');
    return v;
  }
  long(name: string): bigint {
    const v = this.value(name);
    if (typeof v !== 'bigint') throw this.bad(name, 'a long');
    return v;
  }
  optLong(name: string): bigint | undefined {
    const v = this.value(name);
    if (v !== undefined && typeof v !== 'bigint') throw this.bad(name, 'a long');
    return v;
  }
  int(name: string): number {
    const v = this.value(name);
    if (typeof v !== 'number') throw this.bad(name, 'an int');
    return v;
  }
  optInt(name: string): number | undefined {
    const v = this.value(name);
    if (v !== undefined && typeof v !== 'number') throw this.bad(name, 'an int');
    return v;
  }
  optBool(name: string): boolean | undefined {
    const v = this.value(name);
    if (v !== undefined && typeof v !== 'boolean') throw this.bad(name, 'a boolean');
    return v;
  }
  optBytes(name: string): Uint8Array | undefined {
    const v = this.value(name);
    if (v !== undefined && !(v instanceof Uint8Array)) throw this.bad(name, 'bytes');
    return v;
  }
  record(name: string): AvroRecord {
    const v = this.value(name);
    if (
      typeof v !== 'object' ||
      v === null ||
      Array.isArray(v) ||
      v instanceof Uint8Array ||
      v instanceof Map
    ) {
      throw this.bad(name, 'a record');
    }
    return v;
  }
  optArray(name: string): AvroValue[] | undefined {
    const v = this.value(name);
    if (v !== undefined && !Array.isArray(v)) throw this.bad(name, 'an array');
    return v;
  }
  /** Iceberg int-keyed maps are arrays of `{key, value}` records; Avro maps are accepted too. */
  optIntMap<T extends AvroValue>(name: string, check: (x: AvroValue) => x is T): Map<number, T> | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    const out = new Map<number, T>();
    if (Array.isArray(v)) {
      for (const e of v) {
        if (
          typeof e !== 'object' ||
          e === null ||
          Array.isArray(e) ||
          e instanceof Uint8Array ||
          e instanceof Map
        ) {
          throw this.bad(name, 'a map');
        }
        const rec = e as AvroRecord;
        const k = rec.key;
        const x = rec.value;
        if (typeof k !== 'number' || x === undefined || !check(x)) throw this.bad(name, 'a map');
        out.set(k, x);
      }
      return out;
    }
    if (v instanceof Map) {
      for (const [k, x] of v) {
        if (!/^-?\d+$/.test(k) || !check(x)) throw this.bad(name, 'a map');
        out.set(Number(k), x);
      }
      return out;
    }
    throw this.bad(name, 'a map');
  }
}

const isLong = (x: AvroValue): x is bigint => typeof x === 'bigint';
const isBytes = (x: AvroValue): x is Uint8Array => x instanceof Uint8Array;

function withDefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * Typed view of a manifest list record. Optional fields absent from the file (or null) are
 * left out.
 * @throws CorruptFileError if a required field is missing or of the wrong type.
 */
export function manifestFileView(record: AvroRecord, fileName = 'manifest list'): ManifestFileView {
  const f = new Fields(record, fileName, '');
  const content = f.optInt('content') ?? 0;
  if (content !== 0 && content !== 1) throw new CorruptFileError(fileName, `bad manifest content ${content}`);
  const partitions = f.optArray('partitions')?.map((p, i) => {
    const s = new Fields(p as AvroRecord, fileName, `partitions[${i}].`);
    return withDefined<PartitionFieldSummaryView>({
      containsNull: s.optBool('contains_null') ?? false,
      containsNan: s.optBool('contains_nan'),
      lowerBound: s.optBytes('lower_bound'),
      upperBound: s.optBytes('upper_bound'),
    });
  });
  return withDefined<ManifestFileView>({
    manifestPath: f.str('manifest_path'),
    manifestLength: f.long('manifest_length'),
    partitionSpecId: f.int('partition_spec_id'),
    content,
    sequenceNumber: f.optLong('sequence_number'),
    minSequenceNumber: f.optLong('min_sequence_number'),
    addedSnapshotId: f.optLong('added_snapshot_id'),
    addedFilesCount: f.optInt('added_files_count') ?? f.optInt('added_data_files_count'),
    existingFilesCount: f.optInt('existing_files_count') ?? f.optInt('existing_data_files_count'),
    deletedFilesCount: f.optInt('deleted_files_count') ?? f.optInt('deleted_data_files_count'),
    addedRowsCount: f.optLong('added_rows_count'),
    existingRowsCount: f.optLong('existing_rows_count'),
    deletedRowsCount: f.optLong('deleted_rows_count'),
    partitions,
    keyMetadata: f.optBytes('key_metadata'),
    firstRowId: f.optLong('first_row_id'),
  });
}

/**
 * Typed view of a manifest entry record. Optional fields absent from the file (or null) are
 * left out.
 * @throws CorruptFileError if a required field is missing or of the wrong type.
 */
export function manifestEntryView(record: AvroRecord, fileName = 'manifest'): ManifestEntryView {
  const e = new Fields(record, fileName, '');
  const status = e.int('status');
  if (status !== 0 && status !== 1 && status !== 2)
    throw new CorruptFileError(fileName, `bad entry status ${status}`);
  const d = new Fields(e.record('data_file'), fileName, 'data_file.');
  const content = d.optInt('content') ?? 0;
  if (content !== 0 && content !== 1 && content !== 2) {
    throw new CorruptFileError(fileName, `bad data file content ${content}`);
  }
  const splitOffsets = d.optArray('split_offsets');
  const equalityIds = d.optArray('equality_ids');
  if (splitOffsets && !splitOffsets.every(isLong))
    throw new CorruptFileError(fileName, 'bad data_file.split_offsets');
  if (equalityIds && !equalityIds.every((x) => typeof x === 'number')) {
    throw new CorruptFileError(fileName, 'bad data_file.equality_ids');
  }
  const dataFile = withDefined<DataFileView>({
    content,
    filePath: d.str('file_path'),
    fileFormat: d.str('file_format'),
    partition: d.record('partition'),
    recordCount: d.long('record_count'),
    fileSizeInBytes: d.long('file_size_in_bytes'),
    blockSizeInBytes: d.optLong('block_size_in_bytes'),
    columnSizes: d.optIntMap('column_sizes', isLong),
    valueCounts: d.optIntMap('value_counts', isLong),
    nullValueCounts: d.optIntMap('null_value_counts', isLong),
    nanValueCounts: d.optIntMap('nan_value_counts', isLong),
    distinctCounts: d.optIntMap('distinct_counts', isLong),
    lowerBounds: d.optIntMap('lower_bounds', isBytes),
    upperBounds: d.optIntMap('upper_bounds', isBytes),
    keyMetadata: d.optBytes('key_metadata'),
    splitOffsets: splitOffsets as bigint[] | undefined,
    equalityIds: equalityIds as number[] | undefined,
    sortOrderId: d.optInt('sort_order_id'),
    firstRowId: d.optLong('first_row_id'),
    referencedDataFile: d.optStr('referenced_data_file'),
    contentOffset: d.optLong('content_offset'),
    contentSizeInBytes: d.optLong('content_size_in_bytes'),
  });
  return withDefined<ManifestEntryView>({
    status,
    snapshotId: e.optLong('snapshot_id'),
    sequenceNumber: e.optLong('sequence_number'),
    fileSequenceNumber: e.optLong('file_sequence_number'),
    dataFile,
  });
}

/** A manifest entry's `data_file` record as the Avro decoder gives it. */
export type AvroRecordValue = Record<string, unknown>;

/** Content type of a manifest entry's file: 0 data, 1 position deletes, 2 equality deletes. */
export function contentOf(dataFile: AvroRecordValue): number {
  const c = dataFile.content;
  return c === undefined || c === null ? 0 : Number(c);
}

/**
 * An optional Avro long (`file_size_in_bytes`, `manifest_length`) as a bigint: the decoder gives
 * longs as bigints, ints as numbers; `undefined` when absent or null.
 */
export function longOf(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return undefined;
}

/** File format of a manifest entry's file, upper-cased. */
export function formatOf(dataFile: AvroRecordValue): string {
  return String(dataFile.file_format ?? '').toUpperCase();
}
