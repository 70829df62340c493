/**
 * Why an operation that ran to its end did not do everything it was asked (an error would have
 * thrown instead). Results carry it; the CLI's exit code and the operator's condition reason are
 * derived in one place, runtime/app/errors.ts (resultStatus).
 * - commit-failed: Kafka rejected an offset commit for a group;
 * - offsets-changed: the offsets read back differ from those committed (something else moved them);
 * - checks-failed: a validation check failed;
 * - signature-invalid: an evidence report does not verify against the trusted key.
 */
export type ResultFailure = 'commit-failed' | 'offsets-changed' | 'checks-failed' | 'signature-invalid';
