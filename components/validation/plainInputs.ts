/**
 * Where each component's arguments must be plain values: the `plain` inputs of `schema.json`, and
 * the plain fields inside them. Generated from the schema; do not edit: run
 * `npm run schema`.
 */
import type { PlainFields } from "./plain";

export const PLAIN_INPUTS = {
  BuildkitCertificateAuthority: {
    caValidityHours: {},
    certificateValidityHours: {},
    clients: { items: {} },
    commonName: {},
    earlyRenewalHours: {},
    existingCa: {},
    keyAlgorithm: {},
    organization: {},
  },
  BuildkitdFleet: {
    allowedCidrs: { items: {} },
    allowedNamespaces: { items: {} },
    buildkitRegistries: { values: { fields: { http: {}, insecure: {}, mirrors: { items: {} } } } },
    cacheSizeMb: {},
    cacheSizePct: {},
    clientNamespaces: { items: {} },
    clusterDomain: {},
    disruptionBudget: { fields: { enabled: {}, maxUnavailable: {} } },
    earthlyTmpDir: {},
    earthlyVersion: {},
    egress: {
      fields: {
        allowedCidrs: { items: {} },
        allowedNamespaces: { items: {} },
        clusterCidrs: { items: {} },
        internet: {},
        restrict: {},
      },
    },
    fleetName: {},
    hostUsers: {},
    imageDigest: {},
    imagePullSecrets: { items: {} },
    imageRepository: {},
    insecureDisableTls: {},
    namespace: {},
    persistentCache: { fields: { size: {}, storageClassName: {} } },
    podAnnotations: { values: {} },
    replicas: {},
    resources: {
      fields: {
        limits: { fields: { cpu: {}, ephemeralStorage: {}, extended: { values: {} }, memory: {} } },
        requests: { fields: { cpu: {}, ephemeralStorage: {}, extended: { values: {} }, memory: {} } },
      },
    },
    scratchVolume: {
      fields: {
        emptyDir: { fields: { medium: {}, sizeLimit: {} } },
        ephemeral: { fields: { size: {}, storageClassName: {} } },
        hostPath: {},
        persistentVolumeClaimName: {},
      },
    },
    sessionAffinityTimeoutSeconds: {},
    spread: { fields: { enabled: {}, maxSkew: {}, required: {}, topologyKey: {} } },
    tls: {
      fields: {
        existingSecret: { fields: { caKey: {}, certKey: {}, name: {}, privateKeyKey: {} } },
        extraDnsNames: { items: {} },
        extraIpAddresses: { items: {} },
      },
    },
  },
  EarthlyAllInOneJob: {
    activeDeadlineSeconds: {},
    artifacts: { fields: { claimName: {}, directory: {}, subPath: {} } },
    backoffLimit: {},
    buildSecrets: {
      items: { fields: { name: {}, secretKeyRef: { fields: { key: {}, name: {}, optional: {} } } } },
    },
    buildkitRegistries: { values: { fields: { http: {}, insecure: {}, mirrors: { items: {} } } } },
    cacheSizeMb: {},
    cacheSizePct: {},
    dockerConfigSecret: {},
    earthlyConfig: {
      fields: {
        git: {
          values: {
            fields: { auth: {}, pattern: {}, port: {}, prefix: {}, substitute: {}, suffix: {}, user: {} },
          },
        },
        global: { values: {} },
      },
    },
    earthlyTmpDir: {},
    earthlyVersion: {},
    egress: {
      fields: {
        allowedCidrs: { items: {} },
        allowedNamespaces: { items: {} },
        clusterCidrs: { items: {} },
        internet: {},
        restrict: {},
      },
    },
    gitCredentials: {
      fields: {
        https: { items: { fields: { host: {}, passwordKey: {}, secretName: {}, usernameKey: {} } } },
        ssh: {
          fields: {
            hosts: { items: {} },
            knownHosts: { fields: { configMapName: {}, key: {}, secretName: {} } },
            privateKeyKey: {},
            secretName: {},
            user: {},
          },
        },
      },
    },
    hostUsers: {},
    image: {},
    imageDigest: {},
    imagePullSecrets: { items: {} },
    imageRepository: {},
    labels: { values: {} },
    remoteCache: { fields: { image: {}, max: {} } },
    resources: {
      fields: {
        limits: { fields: { cpu: {}, ephemeralStorage: {}, extended: { values: {} }, memory: {} } },
        requests: { fields: { cpu: {}, ephemeralStorage: {}, extended: { values: {} }, memory: {} } },
      },
    },
    scratchVolume: {
      fields: {
        emptyDir: { fields: { medium: {}, sizeLimit: {} } },
        ephemeral: { fields: { size: {}, storageClassName: {} } },
        hostPath: {},
        persistentVolumeClaimName: {},
      },
    },
    sourceVolume: {
      fields: {
        emptyDir: { fields: { medium: {}, sizeLimit: {} } },
        ephemeral: { fields: { size: {}, storageClassName: {} } },
        hostPath: {},
        persistentVolumeClaimName: {},
      },
    },
    srcDir: {},
    timeoutMinutes: {},
    ttlSecondsAfterFinished: {},
    waitForCompletion: {},
  },
  EarthlyRemoteJob: {
    activeDeadlineSeconds: {},
    artifacts: { fields: { claimName: {}, directory: {}, subPath: {} } },
    backoffLimit: {},
    buildSecrets: {
      items: { fields: { name: {}, secretKeyRef: { fields: { key: {}, name: {}, optional: {} } } } },
    },
    dockerConfigSecret: {},
    earthlyConfig: {
      fields: {
        git: {
          values: {
            fields: { auth: {}, pattern: {}, port: {}, prefix: {}, substitute: {}, suffix: {}, user: {} },
          },
        },
        global: { values: {} },
      },
    },
    earthlyVersion: {},
    egress: {
      fields: {
        allowedCidrs: { items: {} },
        allowedNamespaces: { items: {} },
        clusterCidrs: { items: {} },
        internet: {},
        restrict: {},
      },
    },
    fleets: {},
    gitCredentials: {
      fields: {
        https: { items: { fields: { host: {}, passwordKey: {}, secretName: {}, usernameKey: {} } } },
        ssh: {
          fields: {
            hosts: { items: {} },
            knownHosts: { fields: { configMapName: {}, key: {}, secretName: {} } },
            privateKeyKey: {},
            secretName: {},
            user: {},
          },
        },
      },
    },
    hostUsers: {},
    image: {},
    imageDigest: {},
    imagePullSecrets: { items: {} },
    imageRepository: {},
    labels: { values: {} },
    remoteCache: { fields: { image: {}, max: {} } },
    resources: {
      fields: {
        limits: { fields: { cpu: {}, ephemeralStorage: {}, extended: { values: {} }, memory: {} } },
        requests: { fields: { cpu: {}, ephemeralStorage: {}, extended: { values: {} }, memory: {} } },
      },
    },
    security: { fields: { readOnlyRootFilesystem: {}, runAsGroup: {}, runAsUser: {} } },
    sourceVolume: {
      fields: {
        emptyDir: { fields: { medium: {}, sizeLimit: {} } },
        ephemeral: { fields: { size: {}, storageClassName: {} } },
        hostPath: {},
        persistentVolumeClaimName: {},
      },
    },
    srcDir: {},
    timeoutMinutes: {},
    ttlSecondsAfterFinished: {},
    waitForCompletion: {},
  },
  KindCluster: {
    adoptExisting: {},
    clusterName: {},
    controlPlaneLabels: { values: {} },
    networking: {
      fields: {
        apiServerAddress: {},
        apiServerPort: {},
        disableDefaultCNI: {},
        ipFamily: {},
        kubeProxyMode: {},
        podSubnet: {},
        serviceSubnet: {},
      },
    },
    nodeImage: {},
    waitSeconds: {},
    workerPools: {
      items: {
        fields: {
          labels: { values: {} },
          name: {},
          nodes: {},
          taints: { items: { fields: { effect: {}, key: {}, value: {} } } },
        },
      },
    },
  },
} as const satisfies Record<string, PlainFields>;
