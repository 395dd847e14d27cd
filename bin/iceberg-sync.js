#!/usr/bin/env node
// Runs the built CLI; from a source checkout without a build, runs the TypeScript directly
// (Node >= 22.18 strips types). Under an older node, a source checkout's own Node (the one the
// set-up scripts install into .tools/node) runs it instead, so `npx --no-install iceberg-sync`
// works from the repository root whatever the machine's node is.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const ownNode = fileURLToPath(new URL('../.tools/node/node_modules/.bin/node', import.meta.url));
  // The guard stops a loop should that node be old too.
  if (existsSync(ownNode) && !process.env.ICEBERG_SYNC_REEXEC) {
    const child = spawn(ownNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, ICEBERG_SYNC_REEXEC: '1' },
    });
    // Ctrl-C and a container's SIGTERM reach the run, which stops cleanly.
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
    child.on('error', (err) => {
      process.stderr.write(`iceberg-sync: cannot start ${ownNode}: ${err.message}\n`);
      process.exit(2);
    });
    child.on('exit', (code, signal) => {
      if (!signal) process.exit(code ?? 1);
      // Die of the same signal, as a shell expects.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    });
  } else {
    process.stderr.write(
      `iceberg-sync needs Node.js >= 22.18 (this is ${process.versions.node}); ` +
        'in a source checkout, ./scripts/setup.sh installs one into .tools/node\n',
    );
    process.exit(2);
  }
} else {
  // V8's code cache on disk (under the temporary directory; NODE_DISABLE_COMPILE_CACHE=1 turns it
  // off): a run after the first skips compiling the CLI's modules, most of a short run's start-up.
  module.enableCompileCache?.();
  let main;
  try {
    ({ main } = await import('../dist/cli/main.js'));
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    ({ main } = await import('../src/cli/main.ts'));
  }
  process.exitCode = await main(process.argv.slice(2));
}
