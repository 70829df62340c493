import { ConfigError } from '../config/reader.ts';
import { EngineError, type EngineErrorKind, RunLeaseConflict } from '../engine/errors.ts';
import { EvidenceNotFoundError } from '../evidence/commands.ts';
import { SigningKeyError } from '../evidence/signing.ts';
import {
  BackupExistsError,
  BackupNotFoundError,
  CorruptObjectError,
  EncryptionKeyError,
  UnsupportedFormatError,
} from '../format/errors.ts';
import { diagnoseKafkaFailure, errorTree, type KafkaFailureKind } from '../kafka/failures.ts';
import { KafkaError } from '../kafka/port.ts';
import { scrub } from '../log.ts';
import { OffsetsUsageError } from '../offsets/errors.ts';
import { ActiveGroupError } from '../offsets/group-admin.ts';
import type { ResultFailure } from '../outcome.ts';
import { StorageError, type StorageErrorKind } from '../storage/object-store.ts';

/**
 * The one place errors are classified. The CLI turns a classification into its exit code, the
 * operator into a condition reason and a retry decision, so both always agree.
 */

/** Exit codes of `kafka-backup`, documented in runtime/cli/exit-codes.ts and `kafka-backup --help`. */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  integrity: 3,
  kafka: 4,
  storage: 5,
  notFound: 6,
  conflict: 7,
  interrupted: 130,
  terminated: 143,
} as const;

/** `retriable`: the same request may succeed later unchanged; `terminal`: someone must change something. */
export type ErrorClass = 'terminal' | 'retriable';

/** Condition reasons (CamelCase, as Kubernetes conditions spell them). */
export type FailureReason =
  | 'InvalidConfig'
  | 'KafkaUnavailable'
  | 'KafkaRejected'
  | 'AuthenticationFailed'
  | 'AuthorizationFailed'
  | 'TLSHandshakeFailed'
  | 'BrokerUnreachable'
  | 'UnsupportedBrokerVersion'
  | 'StorageUnavailable'
  | 'StorageAccessDenied'
  | 'NotFound'
  | 'Conflict'
  | 'IntegrityError'
  | 'Interrupted'
  | 'Internal';

export interface Classification {
  readonly class: ErrorClass;
  readonly reason: FailureReason;
  readonly exitCode: number;
  /** The error's message with every registered secret value replaced. */
  readonly message: string;
}

/** Invalid input from the caller (a command-line flag, a request field): fix it and retry. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Rule = Omit<Classification, 'message'>;

/**
 * An error classified elsewhere: a run in a Kubernetes Job reports its classification through the
 * container's termination message, and the operator rebuilds it as this, so classify() gives the
 * same class, reason and exit code the CLI in the Job derived.
 */
export class ClassifiedError extends Error {
  constructor(
    readonly classification: Rule,
    message: string,
  ) {
    super(message);
    this.name = 'ClassifiedError';
  }
}

const invalidConfig: Rule = { class: 'terminal', reason: 'InvalidConfig', exitCode: EXIT.usage };
const integrity: Rule = { class: 'terminal', reason: 'IntegrityError', exitCode: EXIT.integrity };
const notFound: Rule = { class: 'terminal', reason: 'NotFound', exitCode: EXIT.notFound };
const conflict: Rule = { class: 'terminal', reason: 'Conflict', exitCode: EXIT.conflict };
const interrupted: Rule = { class: 'retriable', reason: 'Interrupted', exitCode: EXIT.interrupted };
const internal: Rule = { class: 'terminal', reason: 'Internal', exitCode: EXIT.unexpected };

const ENGINE: Readonly<Record<EngineErrorKind, Rule>> = {
  config: invalidConfig,
  'not-found': notFound,
  conflict,
  interrupted,
  integrity,
  internal,
};

const STORAGE: Readonly<Record<StorageErrorKind, Rule>> = {
  'not-found': notFound,
  'precondition-failed': { class: 'retriable', reason: 'Conflict', exitCode: EXIT.storage },
  'access-denied': { class: 'terminal', reason: 'StorageAccessDenied', exitCode: EXIT.storage },
  throttled: { class: 'retriable', reason: 'StorageUnavailable', exitCode: EXIT.storage },
  transient: { class: 'retriable', reason: 'StorageUnavailable', exitCode: EXIT.storage },
  fatal: { class: 'terminal', reason: 'StorageUnavailable', exitCode: EXIT.storage },
};

const kafkaTerminal = (reason: FailureReason): Rule => ({ class: 'terminal', reason, exitCode: EXIT.kafka });
const unreachable: Rule = { class: 'retriable', reason: 'BrokerUnreachable', exitCode: EXIT.kafka };

/** Kafka connection failures (runtime/kafka/failures.ts) by kind: fixed outside the run, or retried. */
const KAFKA_FAILURE: Readonly<Record<KafkaFailureKind, Rule>> = {
  'name-not-resolved': unreachable,
  'connection-refused': unreachable,
  'connection-timeout': unreachable,
  'connection-closed': unreachable,
  'tls-untrusted': kafkaTerminal('TLSHandshakeFailed'),
  'tls-hostname': kafkaTerminal('TLSHandshakeFailed'),
  'tls-not-spoken': kafkaTerminal('TLSHandshakeFailed'),
  'tls-failed': kafkaTerminal('TLSHandshakeFailed'),
  'sasl-failed': kafkaTerminal('AuthenticationFailed'),
  'sasl-mechanism': kafkaTerminal('AuthenticationFailed'),
  'unsupported-version': kafkaTerminal('UnsupportedBrokerVersion'),
  'not-authorized': kafkaTerminal('AuthorizationFailed'),
};

export function classify(error: unknown): Classification {
  const raw = rawKafkaFailure(error);
  if (raw) return { ...KAFKA_FAILURE[raw.kind], message: scrub(raw.message) };
  return { ...rule(error, new Set()), message: scrub(messageOf(error)) };
}

/** An error of the Kafka client that no adapter wrapped (its code starts PLT_KFK_), diagnosed. */
function rawKafkaFailure(error: unknown) {
  if (error instanceof KafkaError) return undefined;
  if (!errorTree(error).some((e) => String(e.code).startsWith('PLT_KFK_'))) return undefined;
  return diagnoseKafkaFailure(error);
}

function rule(error: unknown, seen: Set<unknown>): Rule {
  seen.add(error);
  if (error instanceof ClassifiedError) return error.classification;
  if (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof OffsetsUsageError ||
    error instanceof SigningKeyError ||
    error instanceof EncryptionKeyError ||
    // node:util parseArgs: an unknown option, a missing value, ...
    String((error as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS')
  ) {
    return invalidConfig;
  }
  if (error instanceof CorruptObjectError || error instanceof UnsupportedFormatError) return integrity;
  if (error instanceof BackupNotFoundError || error instanceof EvidenceNotFoundError) return notFound;
  if (error instanceof BackupExistsError) return conflict;
  // Members may leave: the same request succeeds once the consumers are stopped.
  if (error instanceof ActiveGroupError) return { ...conflict, class: 'retriable' };
  // Another run holds the lease: the same request succeeds once it ends.
  if (error instanceof RunLeaseConflict) return { ...conflict, class: 'retriable' };
  if (error instanceof EngineError) return ENGINE[error.kind];
  if (error instanceof StorageError) return STORAGE[error.kind];
  if (error instanceof KafkaError) return kafkaRule(error);
  if ((error as { name?: unknown })?.name === 'AbortError') return interrupted;
  const cause = (error as { cause?: unknown })?.cause;
  if (cause !== undefined && !seen.has(cause)) return rule(cause, seen);
  return internal;
}

function kafkaRule(error: KafkaError): Rule {
  const failure = error.failure ?? diagnoseKafkaFailure(error);
  if (failure) return KAFKA_FAILURE[failure.kind];
  return error.retriable
    ? { class: 'retriable', reason: 'KafkaUnavailable', exitCode: EXIT.kafka }
    : { class: 'terminal', reason: 'KafkaRejected', exitCode: EXIT.kafka };
}

/**
 * A result that ran to its end: success, or the reason and exit code of what it could not do. The
 * only mapping of results to exit codes, next to the one for errors.
 */
export function resultStatus(failure: ResultFailure | undefined): {
  readonly ok: boolean;
  readonly reason?: FailureReason;
  readonly exitCode: number;
} {
  switch (failure) {
    case undefined:
      return { ok: true, exitCode: EXIT.ok };
    case 'commit-failed':
      return { ok: false, reason: 'KafkaRejected', exitCode: EXIT.kafka };
    case 'offsets-changed':
      return { ok: false, reason: 'Conflict', exitCode: EXIT.conflict };
    case 'checks-failed':
    case 'signature-invalid':
      return { ok: false, reason: 'IntegrityError', exitCode: EXIT.integrity };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
