/**
 * Rewrites the `file_path` column of an Iceberg position-delete file.
 *
 * Approach: surgery, not re-writing. Every byte of the file is copied as it is, except:
 *  - the `file_path` column chunks, where only the pages holding path bytes change: the
 *    dictionary page (the usual case; data pages of dictionary indices are copied verbatim)
 *    or PLAIN data pages, re-encoded PLAIN and compressed with the chunk's own codec;
 *  - the page indexes that hold offsets (every offset index) or path bounds (the `file_path`
 *    column index), rebuilt in place;
 *  - column metadata a writer repeated inside the file (Impala writes each ColumnChunk after
 *    its data, where `file_offset` points), rebuilt like the footer's;
 *  - the footer, decoded losslessly (every unknown field kept with its wire type) with only
 *    offsets, sizes and `file_path` statistics changed.
 * Row groups, pages, encodings, codecs, field ids, key-value metadata, `created_by` and the
 * other columns' bytes stay exactly as the writer made them. hyparquet-writer was not used:
 * re-writing from rows would change page layout and encodings, drop page indexes and
 * unknown footer fields, and it cannot write every codec Iceberg writers use.
 *
 * Limits: `file_path` must be a top-level BYTE_ARRAY; its data pages must be dictionary or
 * PLAIN encoded (DELTA_* are refused); LZO and Hadoop-framed LZ4 chunks are refused. A bloom
 * filter on `file_path` would hold hashes of the old paths, so its reference is removed.
 *
 * The modules of `position-deletes/`, one concern each:
 *  - `rewrite.ts`: the entry and the pass over the row groups;
 *  - `paths.ts`: reading the `file_path` values and mapping each distinct path once;
 *  - `chunk.ts`: rebuilding a `file_path` column chunk page by page, and the page-size check;
 *  - `page-codec.ts`: PLAIN byte arrays and the Parquet codecs with their size guard;
 *  - `statistics.ts`: Statistics structs of the mapped paths;
 *  - `page-index.ts`: offset indexes and the `file_path` column index;
 *  - `layout.ts`: old-to-new offsets, the offsets the footer holds, and assembling the output;
 *  - `guard.ts`: Thrift decode errors as CorruptFileError.
 */

export {
  FILE_PATH_FIELD_ID,
  POS_FIELD_ID,
  type PositionDeleteRewrite,
  rewritePositionDeleteFile,
} from './position-deletes/rewrite.ts';
