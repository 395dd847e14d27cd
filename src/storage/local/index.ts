/** The local backend: plain absolute paths and `file:` URIs, on local disks and NFS/SMB mounts. */
import { IcebergSyncError } from '../../errors.ts';
import type { StorageBackend } from '../backend.ts';
import { toLocalPath } from './local.ts';
import { LOCAL_SCHEME_INFO } from './schemes.ts';

export { LocalStorage, toLocalPath } from './local.ts';

/** The local backend's descriptor. */
export const localBackend: StorageBackend = {
  name: 'local',
  description: 'local disks and NFS/SMB mounts: absolute paths and file: URIs',
  schemes: LOCAL_SCHEME_INFO,
  propertyKeys: [],
  parseLocation(location) {
    const m = /^file:(?:\/\/([^/]*))?(\/.*)?$/i.exec(location);
    if (m) {
      const authority = m[1] ?? '';
      return {
        scheme: 'file',
        authority: authority === 'localhost' ? '' : authority,
        path: toLocalPath(location),
      };
    }
    if (location.startsWith('/')) return { scheme: '', authority: '', path: location };
    throw new IcebergSyncError('INVALID_PATH', `'${location}': not a local location (/path or file:/path)`);
  },
  // Plain paths and file: URIs are the router's own fallback: nothing to register.
  routes: () => [],
};
