/**
 * Storage whose every call carries one `AbortSignal`: how a run hands its signal to every storage
 * call it makes without threading it through each one.
 */
import { throwIfAborted } from '../util/abort.ts';
import type { StorageResolver } from './router.ts';
import type { CallOptions, PathList, StatOptions, Storage } from './storage.ts';

/** `options` with `signal` unless they carry their own. */
function withSignalOption<O extends CallOptions>(options: O | undefined, signal: AbortSignal): O {
  return { ...(options ?? ({} as O)), signal: options?.signal ?? signal };
}

/**
 * `storage` with `signal` on every call. Its `close` does nothing: the storage belongs to whoever
 * built it (a router), which closes it.
 */
export function abortableStorage(storage: Storage, signal: AbortSignal): Storage {
  const s = storage;
  const wrapped: Storage = {
    stat: (p, o) => s.stat(p, withSignalOption(o, signal)),
    read: (p, r, o) => s.read(p, r, withSignalOption(o, signal)),
    readStream: (p, o) => s.readStream(p, withSignalOption(o, signal)),
    write: (p, d, o) => s.write(p, d, withSignalOption(o, signal)),
    list: (d, o) => s.list(d, withSignalOption(o, signal)),
    delete: (p, o) => s.delete(p, withSignalOption(o, signal)),
    close: async () => {},
    ...(s.listDirectories
      ? {
          listDirectories: (d: string, o?: CallOptions) => s.listDirectories!(d, withSignalOption(o, signal)),
        }
      : {}),
    ...(s.listingCost ? { listingCost: s.listingCost } : {}),
    ...(s.statMany
      ? { statMany: (ps: readonly string[], o?: StatOptions) => s.statMany!(ps, withSignalOption(o, signal)) }
      : {}),
    ...(s.findUnlike
      ? {
          findUnlike: (ps: PathList, sizes: Float64Array, o?: CallOptions) =>
            s.findUnlike!(ps, sizes, withSignalOption(o, signal)),
        }
      : {}),
  };
  if (s.rename) {
    const rename = s.rename.bind(s);
    return {
      ...wrapped,
      rename: async (a, b, o) => {
        throwIfAborted(signal, a);
        return rename(a, b, withSignalOption(o, signal));
      },
    };
  }
  return wrapped;
}

/** `resolve` whose storages carry `signal` on every call (`resolve` itself without one). */
export function abortableResolver(
  resolve: StorageResolver,
  signal: AbortSignal | undefined,
): StorageResolver {
  if (!signal) return resolve;
  const cache = new WeakMap<Storage, Storage>();
  return (path) => {
    const storage = resolve(path);
    let w = cache.get(storage);
    if (!w) {
      w = abortableStorage(storage, signal);
      cache.set(storage, w);
    }
    return w;
  };
}
