/** The in-memory backend (`memory://name/path`): for tests, and for library users who embed the tool. */
import { IcebergSyncError } from '../../errors.ts';
import type { StorageBackend } from '../backend.ts';
import { MEMORY_SCHEME, MemoryStorage } from './memory.ts';

export { MEMORY_SCHEME, MemoryStorage, type MemoryStorageOptions } from './memory.ts';

/** The in-memory backend's descriptor. Each router built from the registry gets its own store. */
export const memoryBackend: StorageBackend = {
  name: 'memory',
  description: 'files in memory, gone when the process ends (tests, embedding)',
  schemes: [{ scheme: MEMORY_SCHEME }],
  propertyKeys: [],
  parseLocation(location) {
    const m = /^memory:\/\/([^/]*)(\/.*)?$/i.exec(location);
    if (!m)
      throw new IcebergSyncError('INVALID_PATH', `'${location}': not a memory location (memory://name/path)`);
    return { scheme: MEMORY_SCHEME, authority: m[1]!, path: m[2] ?? '/' };
  },
  routes: () => [{ prefix: `${MEMORY_SCHEME}://`, storage: new MemoryStorage() }],
};
