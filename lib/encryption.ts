import { type SecretReference, secretName } from './secret-reference.ts';

/** Client-side encryption of backup data before it leaves the cluster. */
export interface AesGcmEncryptionProps {
  /** Secret holding a 32-byte key (base64 or raw), read by the operator; never copied anywhere. */
  readonly keySecret: SecretReference;
  /**
   * Key inside the Secret.
   * @default 'encryption.key'
   */
  readonly key?: string;
}

/** Client-side encryption settings. */
export class Encryption {
  /** AES-256-GCM with a key from a referenced Secret. */
  public static aes256Gcm(props: AesGcmEncryptionProps): Encryption {
    secretName(props.keySecret, 'encryption.keySecret');
    return new Encryption(props);
  }

  private constructor(private readonly props: AesGcmEncryptionProps) {}

  /** @internal */
  public _toSpec(): EncryptionSpec {
    return {
      algorithm: 'AES-256-GCM',
      keySecret: { name: secretName(this.props.keySecret, 'encryption.keySecret'), key: this.props.key },
    };
  }
}

/** The wire shape of `spec.encryption`. */
export interface EncryptionSpec {
  readonly algorithm: string;
  readonly keySecret: { name: string; key?: string };
}
