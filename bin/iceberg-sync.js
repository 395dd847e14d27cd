#!/usr/bin/env node
// Runs the built CLI; from a source checkout without a build, runs the TypeScript directly
// (Node >= 22.18 strips types).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`iceberg-sync needs Node.js >= 22.18 (this is ${process.versions.node})\n`);
  process.exit(2);
}
let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
