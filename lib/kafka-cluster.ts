import type { Duration } from 'cdk8s';
import { type SecretReference, secretName } from './secret-reference.ts';

/** SASL mechanisms the engine supports. */
export enum SaslMechanism {
  PLAIN = 'PLAIN',
  SCRAM_SHA_256 = 'SCRAM-SHA-256',
  SCRAM_SHA_512 = 'SCRAM-SHA-512',
}

/** Where SASL credentials come from. */
export interface KafkaSaslProps {
  /** The Secret holding the username and password (in the resource's namespace). */
  readonly secret: SecretReference;
  /**
   * Key of the username in the Secret.
   * @default 'username'
   */
  readonly usernameKey?: string;
  /**
   * Key of the password in the Secret.
   * @default 'password'
   */
  readonly passwordKey?: string;
}

/** SASL authentication against the brokers, always read from a referenced Secret. */
export class KafkaSasl {
  /** SASL/PLAIN: only sensible together with TLS, since the password crosses the wire. */
  public static plain(props: KafkaSaslProps): KafkaSasl {
    return new KafkaSasl(SaslMechanism.PLAIN, props);
  }
  /** SASL/SCRAM-SHA-256. */
  public static scramSha256(props: KafkaSaslProps): KafkaSasl {
    return new KafkaSasl(SaslMechanism.SCRAM_SHA_256, props);
  }
  /** SASL/SCRAM-SHA-512. */
  public static scramSha512(props: KafkaSaslProps): KafkaSasl {
    return new KafkaSasl(SaslMechanism.SCRAM_SHA_512, props);
  }

  private constructor(
    public readonly mechanism: SaslMechanism,
    private readonly props: KafkaSaslProps,
  ) {
    secretName(props.secret, 'sasl.secret');
  }

  /** @internal */
  public _toSpec(): SaslSecretSpec {
    return {
      name: secretName(this.props.secret, 'sasl.secret'),
      mechanism: this.mechanism,
      usernameKey: this.props.usernameKey,
      passwordKey: this.props.passwordKey,
    };
  }
}

/** TLS to the brokers. Certificates are always read from referenced Secrets. */
export interface KafkaTlsProps {
  /**
   * A Secret with the CA certificate and, for mutual TLS, the client certificate and key
   * (for example a cert-manager or Strimzi KafkaUser Secret).
   * @default - none: with neither `secret` nor `caSecret`, brokers are verified against the system CAs
   */
  readonly secret?: SecretReference;
  /**
   * Key of the CA certificate in `secret`. Ignored when `caSecret` is set.
   * @default 'ca.crt'
   */
  readonly caKey?: string;
  /**
   * Key of the client certificate in `secret`; set it with `keyKey` for mutual TLS.
   * @default - no client certificate (one-way TLS)
   */
  readonly certKey?: string;
  /**
   * Key of the client private key in `secret`.
   * @default - no client certificate (one-way TLS)
   */
  readonly keyKey?: string;
  /**
   * A separate Secret holding only the CA certificate, such as Strimzi's `<cluster>-cluster-ca-cert`.
   * It overrides the CA from `secret`.
   * @default - the CA comes from `secret`
   */
  readonly caSecret?: SecretReference;
  /**
   * Key of the CA certificate in `caSecret`.
   * @default 'ca.crt'
   */
  readonly caSecretKey?: string;
}

/** TCP tuning of the Kafka client connections. */
export interface KafkaConnectionTuning {
  /**
   * Enable TCP keep-alive.
   * @default true
   */
  readonly tcpKeepalive?: boolean;
  /**
   * Idle time before the first keep-alive probe (whole seconds).
   * @default Duration.seconds(60)
   */
  readonly keepaliveTime?: Duration;
  /**
   * Disable Nagle's algorithm.
   * @default true
   */
  readonly tcpNoDelay?: boolean;
  /**
   * Parallel connections to each broker; more connections raise throughput on fast links.
   * @default 4
   */
  readonly connectionsPerBroker?: number;
  /**
   * How long to wait for a TCP connection to a broker (whole milliseconds).
   * @default Duration.seconds(10)
   */
  readonly connectTimeout?: Duration;
  /**
   * How long to wait for a broker's answer to a request (whole milliseconds).
   * @default Duration.seconds(60)
   */
  readonly requestTimeout?: Duration;
}

/** How to reach a Kafka cluster. */
export interface KafkaClusterConnectionProps {
  /** Bootstrap brokers as `host:port`, for example `['kafka.kafka.svc:9092']`. */
  readonly bootstrapServers: string[];
  /**
   * TLS settings (`{}` for TLS verified against the system CAs, as for most managed Kafka services).
   * Together with `sasl` the protocol is `SASL_SSL`, alone `SSL`.
   * @default - no TLS
   */
  readonly tls?: KafkaTlsProps;
  /**
   * SASL authentication. Together with `tls` the protocol is `SASL_SSL`, alone `SASL_PLAINTEXT`.
   * @default - no authentication
   */
  readonly sasl?: KafkaSasl;
  /**
   * TCP tuning.
   * @default - the engine's defaults (see KafkaConnectionTuning)
   */
  readonly connection?: KafkaConnectionTuning;
  /**
   * Kafka client id, shown in broker logs and quotas.
   * @default - the engine's id
   */
  readonly clientId?: string;
}

/** The wire shape of `spec.kafkaCluster` (the same for all five kinds). */
export interface KafkaClusterSpec {
  readonly bootstrapServers: string[];
  readonly securityProtocol?: string;
  readonly tlsSecret?: { name: string; caKey?: string; certKey?: string; keyKey?: string };
  readonly caSecret?: { name: string; caKey?: string };
  readonly saslSecret?: SaslSecretSpec;
  readonly clientId?: string;
  readonly connection?: {
    tcpKeepalive?: boolean;
    keepaliveTimeSecs?: number;
    tcpNodelay?: boolean;
    connectionsPerBroker?: number;
    connectTimeoutMs?: number;
    requestTimeoutMs?: number;
  };
}

interface SaslSecretSpec {
  name: string;
  mechanism: string;
  usernameKey?: string;
  passwordKey?: string;
}

const HOST_PORT = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})$|^\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}$/;

/**
 * A Kafka cluster and how to authenticate to it, shared by every kind so one value can be
 * reused across a backup, its restore and the offset plans.
 *
 * The security protocol follows from what is configured (TLS, SASL, both or neither), so an
 * inconsistent combination cannot be written.
 */
export class KafkaClusterConnection {
  /** A cluster reached without TLS or authentication. */
  public static plaintext(...bootstrapServers: string[]): KafkaClusterConnection {
    return new KafkaClusterConnection({ bootstrapServers });
  }

  public readonly bootstrapServers: readonly string[];
  public readonly securityProtocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

  public constructor(private readonly props: KafkaClusterConnectionProps) {
    if (props.bootstrapServers.length === 0) {
      throw new Error(
        'kafkaCluster.bootstrapServers: give at least one broker as host:port, e.g. kafka:9092',
      );
    }
    for (const server of props.bootstrapServers) {
      if (!HOST_PORT.test(server)) {
        throw new Error(
          `kafkaCluster.bootstrapServers: "${server}" is not host:port; write it like kafka.kafka.svc:9092`,
        );
      }
    }
    this.bootstrapServers = [...props.bootstrapServers];
    const tls = props.tls;
    if (tls) {
      if ((tls.certKey === undefined) !== (tls.keyKey === undefined)) {
        throw new Error('kafkaCluster.tls: mutual TLS needs both certKey and keyKey; set both or neither');
      }
      if (tls.certKey !== undefined && tls.secret === undefined) {
        throw new Error('kafkaCluster.tls: certKey and keyKey name keys in tls.secret; set tls.secret');
      }
      if (tls.secret !== undefined) secretName(tls.secret, 'kafkaCluster.tls.secret');
      if (tls.caSecret !== undefined) secretName(tls.caSecret, 'kafkaCluster.tls.caSecret');
    }
    validateTuning(props.connection);
    this.securityProtocol = props.sasl ? (tls ? 'SASL_SSL' : 'SASL_PLAINTEXT') : tls ? 'SSL' : 'PLAINTEXT';
  }

  /** @internal */
  public _toSpec(): KafkaClusterSpec {
    const { tls, sasl, connection } = this.props;
    return {
      bootstrapServers: [...this.bootstrapServers],
      // PLAINTEXT is the default; leaving it out keeps the YAML identical to hand-written specs.
      securityProtocol: this.securityProtocol === 'PLAINTEXT' ? undefined : this.securityProtocol,
      tlsSecret: tls?.secret
        ? {
            name: secretName(tls.secret, 'kafkaCluster.tls.secret'),
            caKey: tls.caKey,
            certKey: tls.certKey,
            keyKey: tls.keyKey,
          }
        : undefined,
      caSecret: tls?.caSecret
        ? { name: secretName(tls.caSecret, 'kafkaCluster.tls.caSecret'), caKey: tls.caSecretKey }
        : undefined,
      saslSecret: sasl?._toSpec(),
      clientId: this.props.clientId,
      connection: connection
        ? {
            tcpKeepalive: connection.tcpKeepalive,
            keepaliveTimeSecs: connection.keepaliveTime?.toSeconds(),
            tcpNodelay: connection.tcpNoDelay,
            connectionsPerBroker: connection.connectionsPerBroker,
            connectTimeoutMs: connection.connectTimeout?.toMilliseconds(),
            requestTimeoutMs: connection.requestTimeout?.toMilliseconds(),
          }
        : undefined,
    };
  }
}

function validateTuning(tuning: KafkaConnectionTuning | undefined): void {
  if (!tuning) return;
  const perBroker = tuning.connectionsPerBroker;
  if (perBroker !== undefined && (!Number.isInteger(perBroker) || perBroker < 1)) {
    throw new Error(
      `kafkaCluster.connection.connectionsPerBroker: must be a whole number of at least 1, got ${perBroker}`,
    );
  }
  for (const [name, value] of [['keepaliveTime', tuning.keepaliveTime]] as const) {
    if (value === undefined) continue;
    const seconds = value.toSeconds();
    if (!Number.isInteger(seconds) || seconds < 1) {
      throw new Error(
        `kafkaCluster.connection.${name}: must be a whole number of seconds, at least 1 (got ${seconds}s)`,
      );
    }
  }
}
