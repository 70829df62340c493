/**
 * A stored object failed verification: wrong size, checksum, magic, authentication tag, or content.
 * `key` names the object so the user knows exactly what is damaged; nothing from it was used.
 */
export class CorruptObjectError extends Error {
  readonly key: string;
  readonly reason: string;
  constructor(key: string, reason: string, options: { cause?: unknown } = {}) {
    super(
      `backup object '${key}' is corrupt or truncated: ${reason}. Nothing from it was used; ` +
        'restore it from a replica or accept losing the records it holds.',
      { cause: options.cause },
    );
    this.name = 'CorruptObjectError';
    this.key = key;
    this.reason = reason;
  }
}

/** An object was written in a format version or with a feature this code does not understand. */
export class UnsupportedFormatError extends Error {
  readonly key: string;
  constructor(key: string, detail: string) {
    super(`backup object '${key}' uses an unsupported format: ${detail}. Upgrade kafka-backup to read it.`);
    this.name = 'UnsupportedFormatError';
    this.key = key;
  }
}

/** The backup is encrypted and no key, or a different key, was supplied. */
export class EncryptionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionKeyError';
  }
}

export class BackupNotFoundError extends Error {
  readonly backupId: string;
  constructor(backupId: string, where: string) {
    super(`backup '${backupId}' not found in ${where}; run 'kafka-backup list' to see the backups there`);
    this.name = 'BackupNotFoundError';
    this.backupId = backupId;
  }
}

export class BackupExistsError extends Error {
  readonly backupId: string;
  constructor(backupId: string, where: string) {
    super(`backup '${backupId}' already exists in ${where}; open it to add a run, or choose another id`);
    this.name = 'BackupExistsError';
    this.backupId = backupId;
  }
}

/** Invalid input from the caller (bad id, non-increasing offsets, ...): a bug or a bad config, not data. */
export class FormatUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatUsageError';
  }
}
