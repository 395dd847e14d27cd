/**
 * A worker thread of {@link RewriteWorkers}: runs {@link rewriteBlocks} on the tasks it is sent,
 * keeping the rewriter of each setup it has been sent (a few per run: one per schema and mapping).
 */
import { parentPort } from 'node:worker_threads';
import {
  type BlockRewriter,
  type BlockRewriteSetup,
  type BlockRewriteTask,
  blockRewriter,
  rewriteBlocks,
} from './block-rewrite.ts';

/** One task: its setup's key, the setup itself the first time this worker gets that key. */
export interface RewriteMessage {
  readonly id: number;
  readonly key: number;
  readonly setup?: BlockRewriteSetup;
  readonly task: BlockRewriteTask;
}

/** Setups kept; a run has few, a long-lived process (watch) may see more over time. */
const KEPT = 32;
const rewriters = new Map<number, BlockRewriter>();

parentPort?.on('message', (m: RewriteMessage) => {
  let rw = rewriters.get(m.key);
  if (!rw && m.setup) {
    try {
      rw = blockRewriter(m.setup);
    } catch {
      // a schema that does not parse: the caller's own reader raises that
    }
    if (rw) {
      rewriters.set(m.key, rw);
      if (rewriters.size > KEPT) rewriters.delete(rewriters.keys().next().value!);
    }
  }
  let result = rw ? rewriteBlocks(rw, m.task) : { slow: true as const };
  const moved: ArrayBuffer[] = [];
  if (!result.slow) {
    const block = result.block;
    // zlib's small outputs are views of Node's shared pool, which cannot be moved: copied then.
    if (block && block.data.byteLength !== block.data.buffer.byteLength)
      result = { ...result, block: { count: block.count, data: new Uint8Array(block.data) } };
    moved.push(result.sizes.buffer as ArrayBuffer, result.paths.buffer as ArrayBuffer);
    if (result.block) moved.push(result.block.data.buffer as ArrayBuffer);
  }
  parentPort!.postMessage({ id: m.id, result }, moved);
});
