import type { BackupStorage } from './storage.ts';

/** The minimal view of a backup that a restore or validation needs. */
export interface IKafkaBackup {
  /** The KafkaBackup's name. */
  readonly name: string;
  /** The KafkaBackup's namespace (undefined: the chart's default). */
  readonly metadata: { readonly namespace?: string };
}

/** Which backup a restore or validation reads. */
export class BackupSource {
  /**
   * A KafkaBackup defined in this app (e.g. a `KafkaBackupSchedule`).
   * @param options.backupId a specific backup set; by default the backup's latest successful run
   */
  public static fromBackup(backup: IKafkaBackup, options: { backupId?: string } = {}): BackupSource {
    return new BackupSource((namespace) => ({
      name: backup.name,
      namespace: backup.metadata.namespace !== namespace ? backup.metadata.namespace : undefined,
      backupId: options.backupId,
    }));
  }

  /** A KafkaBackup by name, e.g. one managed in another repository. */
  public static fromBackupName(
    name: string,
    options: { namespace?: string; backupId?: string } = {},
  ): BackupSource {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
      throw new Error(
        `backupRef.name: "${name}" is not a valid KafkaBackup name (lowercase letters, digits, '-', '.')`,
      );
    }
    return new BackupSource(() => ({ name, namespace: options.namespace, backupId: options.backupId }));
  }

  /**
   * A backup set read directly from storage, without a KafkaBackup object (e.g. in a recovery cluster).
   * @param backupId the backup set to read (list them with `kafka-backup list`)
   */
  public static fromStorage(storage: BackupStorage, backupId: string): BackupSource {
    if (backupId.length === 0)
      throw new Error('backupRef.backupId: name the backup set to read from storage');
    return new BackupSource(() => ({ name: '', backupId, storage: storage._toSpec() }));
  }

  private constructor(
    private readonly produce: (namespace: string | undefined) => {
      name: string;
      namespace?: string;
      backupId?: string;
      storage?: ReturnType<BackupStorage['_toSpec']>;
    },
  ) {}

  /** @internal */
  public _toSpec(namespace: string | undefined) {
    return this.produce(namespace);
  }
}
