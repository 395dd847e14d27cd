/** Small Parquet data files for add-files tests, written by hyparquet-writer (not the code under test). */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';

/** Options of {@link writeDataFile}. */
export interface DataFileOptions {
  /** Dated an hour back, past any settle time (default true); false leaves it "just written". */
  readonly settled?: boolean;
  /** Add a `note` string column beside `id` (default true). */
  readonly notes?: boolean;
}

/** Writes a Parquet file with an INT64 `id` column holding `ids` (and a `note` per id). */
export function writeDataFile(file: string, ids: bigint[], options: DataFileOptions = {}): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const columnData = [
    { name: 'id', data: ids, type: 'INT64' as const },
    ...(options.notes === false
      ? []
      : [{ name: 'note', data: ids.map((i) => `note ${i}`), type: 'STRING' as const }]),
  ];
  writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData })));
  if (options.settled !== false) {
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(file, past, past);
  }
}
