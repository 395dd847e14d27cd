/** Rewrites the `file_path` column of an Iceberg position-delete file (see position-deletes/). */

export {
  FILE_PATH_FIELD_ID,
  POS_FIELD_ID,
  type PositionDeleteRewrite,
  rewritePositionDeleteFile,
} from './position-deletes/rewrite.ts';
