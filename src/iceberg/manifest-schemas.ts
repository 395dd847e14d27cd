/**
 * The Avro schemas of manifests (`manifest_entry`) and manifest lists (`manifest_file`) for
 * format v1, v2 and v3, with the field ids and names of the Iceberg spec, as this tool writes
 * new ones (rewritten files keep their writer's schema instead).
 */
import type { FormatVersion } from './metadata.ts';

type AvroJson = Record<string, unknown>;

const opt = (name: string, type: unknown, id: number, doc?: string): AvroJson => ({
  name,
  type: ['null', type],
  default: null,
  ...(doc ? { doc } : {}),
  'field-id': id,
});
const req = (name: string, type: unknown, id: number, doc?: string): AvroJson => ({
  name,
  type,
  ...(doc ? { doc } : {}),
  'field-id': id,
});

/** An int-keyed map as Iceberg writes it in Avro: an array of key/value records. */
function intMap(name: string, id: number, keyId: number, valueId: number, valueType: string): AvroJson {
  return opt(
    name,
    {
      type: 'array',
      items: {
        type: 'record',
        name: `k${keyId}_v${valueId}`,
        fields: [req('key', 'int', keyId), req('value', valueType, valueId)],
      },
      logicalType: 'map',
    },
    id,
  );
}

/**
 * The `manifest_entry` schema of a data manifest for `version`, whose `partition` record has
 * `partitionFields` (Avro fields with `field-id`s, each an optional union).
 */
export function manifestEntrySchema(version: FormatVersion, partitionFields: readonly AvroJson[]): AvroJson {
  const dataFile: AvroJson[] = [];
  if (version >= 2)
    dataFile.push(
      req('content', 'int', 134, 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes'),
    );
  dataFile.push(
    req('file_path', 'string', 100, 'Location URI with FS scheme'),
    req('file_format', 'string', 101, 'File format name: avro, orc, or parquet'),
    req(
      'partition',
      { type: 'record', name: 'r102', fields: partitionFields },
      102,
      'Partition data tuple, schema based on the partition spec',
    ),
    req('record_count', 'long', 103, 'Number of records in the file'),
    req('file_size_in_bytes', 'long', 104, 'Total file size in bytes'),
  );
  if (version === 1) dataFile.push(req('block_size_in_bytes', 'long', 105));
  dataFile.push(
    intMap('column_sizes', 108, 117, 118, 'long'),
    intMap('value_counts', 109, 119, 120, 'long'),
    intMap('null_value_counts', 110, 121, 122, 'long'),
    intMap('nan_value_counts', 137, 138, 139, 'long'),
    intMap('lower_bounds', 125, 126, 127, 'bytes'),
    intMap('upper_bounds', 128, 129, 130, 'bytes'),
    opt('key_metadata', 'bytes', 131, 'Encryption key metadata blob'),
    opt('split_offsets', { type: 'array', items: 'long', 'element-id': 133 }, 132, 'Splittable offsets'),
  );
  if (version >= 2)
    dataFile.push(
      opt(
        'equality_ids',
        { type: 'array', items: 'int', 'element-id': 136 },
        135,
        'Equality comparison field IDs',
      ),
    );
  dataFile.push(opt('sort_order_id', 'int', 140, 'Sort order ID'));
  if (version >= 3) {
    dataFile.push(
      opt('first_row_id', 'long', 142, 'The first row ID assigned to the first row in the data file'),
      opt(
        'referenced_data_file',
        'string',
        143,
        'Fully qualified location of a data file that all deletes reference',
      ),
      opt('content_offset', 'long', 144, 'The offset in the file where the content starts'),
      opt('content_size_in_bytes', 'long', 145, 'The length of referenced content stored in the file'),
    );
  } else if (version === 2) {
    dataFile.push(
      opt(
        'referenced_data_file',
        'string',
        143,
        'Fully qualified location of a data file that all deletes reference',
      ),
    );
  }
  const fields: AvroJson[] = [req('status', 'int', 0)];
  fields.push(version === 1 ? req('snapshot_id', 'long', 1) : opt('snapshot_id', 'long', 1));
  if (version >= 2) fields.push(opt('sequence_number', 'long', 3), opt('file_sequence_number', 'long', 4));
  fields.push(req('data_file', { type: 'record', name: 'r2', fields: dataFile }, 2));
  return { type: 'record', name: 'manifest_entry', fields };
}

/** The `manifest_file` schema of manifest lists for `version`. */
export function manifestFileSchema(version: FormatVersion): AvroJson {
  const summary = {
    type: 'array',
    items: {
      type: 'record',
      name: 'r508',
      fields: [
        req('contains_null', 'boolean', 509, 'True if any file has a null partition value'),
        opt('contains_nan', 'boolean', 518, 'True if any file has a nan partition value'),
        opt('lower_bound', 'bytes', 510, 'Partition lower bound for all files'),
        opt('upper_bound', 'bytes', 511, 'Partition upper bound for all files'),
      ],
    },
    'element-id': 508,
  };
  const count = (name: string, type: string, id: number, doc: string) =>
    version === 1 ? opt(name, type, id, doc) : req(name, type, id, doc);
  const fields: AvroJson[] = [
    req('manifest_path', 'string', 500, 'Location URI with FS scheme'),
    req('manifest_length', 'long', 501, 'Total file size in bytes'),
    req('partition_spec_id', 'int', 502, 'Spec ID used to write'),
  ];
  if (version >= 2) {
    fields.push(
      req('content', 'int', 517, 'Contents of the manifest: 0=data, 1=deletes'),
      req('sequence_number', 'long', 515, 'Sequence number when the manifest was added'),
      req('min_sequence_number', 'long', 516, 'Lowest sequence number in the manifest'),
    );
  }
  fields.push(
    version === 1
      ? opt('added_snapshot_id', 'long', 503, 'Snapshot ID that added the manifest')
      : req('added_snapshot_id', 'long', 503, 'Snapshot ID that added the manifest'),
    count('added_files_count', 'int', 504, 'Added entry count'),
    count('existing_files_count', 'int', 505, 'Existing entry count'),
    count('deleted_files_count', 'int', 506, 'Deleted entry count'),
    count('added_rows_count', 'long', 512, 'Added rows count'),
    count('existing_rows_count', 'long', 513, 'Existing rows count'),
    count('deleted_rows_count', 'long', 514, 'Deleted rows count'),
    opt('partitions', summary, 507, 'Summary for each partition'),
    opt('key_metadata', 'bytes', 519, 'Encryption key metadata blob'),
  );
  if (version >= 3)
    fields.push(
      opt('first_row_id', 'long', 520, 'Starting row ID to assign to new rows in ADDED data files'),
    );
  return { type: 'record', name: 'manifest_file', fields };
}
