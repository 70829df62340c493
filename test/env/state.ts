import type { ManagedProcess } from './process.ts';

/** Connection details of one Kafka cluster's PLAINTEXT listener. */
export interface KafkaClusterInfo {
  /** host:port of the PLAINTEXT listener. */
  readonly bootstrap: string;
  readonly clusterId: string;
}

/** A SCRAM user created when the source cluster was formatted. */
export interface ScramUser {
  readonly username: string;
  readonly password: string;
  readonly mechanism: 'SCRAM-SHA-512';
}

export interface SourceKafkaInfo extends KafkaClusterInfo {
  /** The SASL_SSL listener: TLS with a CA generated at start, SCRAM-SHA-512 users. */
  readonly saslSsl: {
    readonly bootstrap: string;
    /** PEM file of the CA that signed the broker certificate. */
    readonly caFile: string;
    readonly users: readonly ScramUser[];
  };
  /**
   * A plaintext listener (PROXIED) that advertises 127.0.0.1:`advertisedPort`, where nothing listens
   * until a test creates a toxiproxy proxy on that port with `upstream` (the listener's real address):
   * then bootstrap and broker connections alike go through the proxy. See test/env/kafka-proxy.ts.
   */
  readonly proxied: {
    readonly advertisedPort: number;
    /** host:port the PROXIED listener really binds. */
    readonly upstream: string;
  };
}

export interface KafkaInfo {
  readonly source: SourceKafkaInfo;
  readonly target: KafkaClusterInfo;
  /** Directory of the Kafka jars (classpath `<libDir>/*`), for running Kafka's own tools. */
  readonly libDir: string;
}

export interface KubeInfo {
  /** https://127.0.0.1:port of kube-apiserver. */
  readonly server: string;
  /** A kubeconfig with cluster-admin rights (system:masters client certificate). */
  readonly kubeconfig: string;
  readonly caFile: string;
  /** The cluster CA's key and the other PKI files, for components that join later (the node). */
  readonly pkiDir: string;
  readonly kubectl: string;
}

export interface S3Info {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface AzureInfo {
  readonly blobEndpoint: string;
  readonly accountName: string;
  readonly accountKey: string;
  readonly connectionString: string;
}

export interface GcsInfo {
  /** http://127.0.0.1:port of fake-gcs-server. */
  readonly endpoint: string;
  readonly projectId: string;
}

export interface ToxiproxyInfo {
  /** http://127.0.0.1:port of toxiproxy's control API. */
  readonly apiUrl: string;
}

export interface ToolsInfo {
  readonly helm: string;
  readonly kubectl: string;
}

/** The test node (components/node.ts): a kubelet on containerd, with the controllers and the scheduler. */
export interface NodeInfo {
  readonly name: string;
  /** The node's InternalIP, on a veth the environment created. */
  readonly internalIp: string;
  readonly containerdSocket: string;
  /** containerd's CLI, for importing images: `ctr --address <socket> -n <criNamespace> images import`. */
  readonly ctr: string;
  readonly criNamespace: string;
  readonly dataDir: string;
  readonly netns: string;
  readonly hostInterface: string;
  readonly cniBridge: string;
  /** Only Pods with this toleration are scheduled on the node (see components/node.ts). */
  readonly toleration: {
    readonly key: string;
    readonly operator: 'Equal';
    readonly value: string;
    readonly effect: 'NoSchedule';
  };
}

/** Everything a test needs to reach the environment; written to `env.json` in the data directory. */
export interface EnvState {
  readonly version: 1;
  /** Temporary directory with every component's data and logs. */
  readonly root: string;
  readonly processes: ManagedProcess[];
  readonly kafka?: KafkaInfo;
  readonly kube?: KubeInfo;
  readonly s3?: S3Info;
  readonly azure?: AzureInfo;
  readonly gcs?: GcsInfo;
  readonly toxiproxy?: ToxiproxyInfo;
  readonly tools?: ToolsInfo;
  readonly node?: NodeInfo;
}

/** What every component starter receives. */
export interface ComponentContext {
  /** Private data directory of this component (already created). */
  readonly dataDir: string;
  /** Directory for log files (already created); name a log `<component>.log`. */
  readonly logDir: string;
  /** Cache directory outside the repo for downloads and builds. */
  readonly cacheDir: string;
}

/** What a component starter returns: its connection details and the processes to stop later. */
export interface Started<T> {
  readonly info: T;
  readonly processes: ManagedProcess[];
}
