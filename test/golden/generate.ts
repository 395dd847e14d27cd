/**
 * Writes the golden corpus (see corpus.ts) into this folder: each file and its expected decoded
 * content as `<name>.expected.json`. Run from the repository root:
 * `node test/golden/generate.ts`; then `git diff test/golden` shows what changed.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringifyJson } from '../../src/util/json.ts';
import { buildGoldenCorpus } from './corpus.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
for (const file of buildGoldenCorpus()) {
  writeFileSync(path.join(here, file.name), file.bytes);
  writeFileSync(
    path.join(here, `${file.name}.expected.json`),
    `${stringifyJson(file.expected, { indent: 2 })}\n`,
  );
  console.log(`${file.name}: ${file.bytes.length} bytes`);
}
