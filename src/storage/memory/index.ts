/** The in-memory backend (`memory://name/path`): for tests, and for library users who embed the tool. */
import { IcebergSyncError } from '../../errors.ts';
import type { StorageBackend } from '../backend.ts';
import { MemoryStorage } from './memory.ts';
import { MEMORY_SCHEME, MEMORY_SCHEME_INFO } from './schemes.ts';

export { MemoryStorage, type MemoryStorageOptions } from './memory.ts';
export { MEMORY_SCHEME } from './schemes.ts';

/** The in-memory backend's descriptor. Each router built from the registry gets its own store. */
export const memoryBackend: StorageBackend = {
  name: 'memory',
  description: 'files in memory, gone when the process ends (tests, embedding)',
  schemes: MEMORY_SCHEME_INFO,
  propertyKeys: [],
  parseLocation(location) {
    const m = /^memory:\/\/([^/]*)(\/.*)?$/i.exec(location);
    if (!m)
      throw new IcebergSyncError('INVALID_PATH', `'${location}': not a memory location (memory://name/path)`);
    return { scheme: MEMORY_SCHEME, authority: m[1]!, path: m[2] ?? '/' };
  },
  routes: () => [{ prefix: `${MEMORY_SCHEME}://`, storage: new MemoryStorage() }],
};
