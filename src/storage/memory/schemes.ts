/** The in-memory backend's scheme (see `storage/schemes.ts`). */
import type { SchemeInfo } from '../backend.ts';

/** The scheme of in-memory locations (`memory://name/path`). */
export const MEMORY_SCHEME = 'memory';

export const MEMORY_SCHEME_INFO: readonly SchemeInfo[] = [{ scheme: MEMORY_SCHEME }];
