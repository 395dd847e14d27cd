/** The local backend's schemes: `file:` URIs name plain paths (see `storage/schemes.ts`). */
import type { SchemeInfo } from '../backend.ts';

export const LOCAL_SCHEME_INFO: readonly SchemeInfo[] = [{ scheme: 'file', sameAs: '' }];
