/**
 * AWS Glue failures as this tool's errors. The SDK has already retried what is worth retrying
 * (throttling, 5xx, dropped connections) with its bounded backoff; what reaches here is final.
 */
import {
  CommitConflictError,
  ConfigError,
  type IcebergSyncError,
  PermissionDeniedError,
  StorageError,
} from '../../errors.ts';

/** The fields of an AWS SDK error this module reads. */
interface AwsErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
}

const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'MissingAuthenticationTokenException',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ResourceNumberLimitExceededException',
]);

/** The Glue exception name of an error (`EntityNotFoundException`), if it is one. */
export function glueErrorName(err: unknown): string | undefined {
  const e = err as AwsErrorLike | undefined;
  // Only an answer from Glue has a status; a connection failure carries $metadata without one.
  return e && typeof e === 'object' && e.$metadata?.httpStatusCode !== undefined ? e.name : undefined;
}

/**
 * Whether the request was certainly refused (a 4xx answer from Glue), as against a failure that
 * leaves its outcome unknown (no answer, a dropped connection, a 5xx).
 */
export function certainlyRefused(err: unknown): boolean {
  const e = err as AwsErrorLike | undefined;
  const status = e?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

function detail(err: unknown): string {
  const e = err as AwsErrorLike | undefined;
  const name = e?.name && e.name !== 'Error' ? e.name : e?.code;
  const message = e?.message ?? String(err);
  return name && !message.startsWith(name) ? `${name}: ${message}` : message;
}

/**
 * The error to raise for a failed Glue call. `what` names the call and the table or database
 * (`UpdateTable dr.sales.orders`); `endpoint` where Glue was reached (for unreachable servers).
 */
export function glueError(err: unknown, what: string, endpoint: string): IcebergSyncError {
  const e = err as AwsErrorLike | undefined;
  const name = glueErrorName(err);
  const attempts = e?.$metadata?.attempts;
  const tried = attempts !== undefined && attempts > 1 ? ` (after ${attempts} attempts)` : '';
  if (name === 'ConcurrentModificationException') {
    return new CommitConflictError(`${what}: Glue refused a concurrent modification (${detail(err)})`, {
      cause: err,
    });
  }
  if (name !== undefined && DENIED.has(name)) {
    return new PermissionDeniedError(what, `Glue: ${detail(err)}`, { cause: err });
  }
  if (name !== undefined && THROTTLED.has(name)) {
    return new StorageError(`${what}: throttled by Glue${tried}; retry later (${detail(err)})`, {
      cause: err,
    });
  }
  if (name === 'InvalidInputException' || name === 'ValidationException') {
    return new ConfigError(`${what}: Glue refused the input: ${detail(err)}`, { cause: err });
  }
  if (name === undefined) {
    const msg = detail(err);
    if (/region is missing/i.test(msg)) {
      return new ConfigError(`${what}: no AWS region: set glue.region (or client.region, AWS_REGION)`, {
        cause: err,
      });
    }
    if (/credential/i.test(msg) && /(could not|unable to) load/i.test(msg)) {
      return new PermissionDeniedError(
        what,
        'no AWS credentials: set glue.access-key-id and glue.secret-access-key, glue.profile-name, or the AWS default chain',
        { cause: err },
      );
    }
    return new StorageError(`${what}: cannot reach Glue at ${endpoint}${tried}: ${msg}`, { cause: err });
  }
  return new StorageError(`${what}: Glue failed${tried}: ${detail(err)}`, { cause: err });
}
