/** The GCS backend's scheme (see `storage/schemes.ts`). */
import type { SchemeInfo } from '../backend.ts';

export const GCS_SCHEME_INFO: readonly SchemeInfo[] = [{ scheme: 'gs' }];
