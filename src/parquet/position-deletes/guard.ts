import { CorruptFileError } from '../../errors.ts';
import { ThriftError } from '../thrift.ts';

/** Runs a Thrift decode, turning a malformed structure into a CorruptFileError naming the file. */
export function guard<T>(fileName: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ThriftError || err instanceof TypeError) {
      throw new CorruptFileError(fileName, `corrupt metadata (${err.message})`, { cause: err });
    }
    throw err;
  }
}
