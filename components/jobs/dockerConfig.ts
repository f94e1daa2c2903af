/**
 * Registry credentials for the builds: a `kubernetes.io/dockerconfigjson` Secret mounted where
 * Earthly reads Docker credentials. (Pull secrets and BuildKit's mirrors are in
 * `kubernetes/registries.ts`, shared with the fleet.)
 *
 * What Earthly does: the earthly binary (the client, in remote mode) answers BuildKit's requests for
 * registry credentials over the session, from the Docker config it loads the Docker way
 * (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; Earthly's auth guide: "uses the same
 * Docker libraries"). So the Secret's `.dockerconfigjson` is mounted as `config.json` in a read-only
 * directory (mode 0400) and `DOCKER_CONFIG` names it. The daemon receives a registry's credentials
 * from the client when it asks for them, for the pull or push it is doing.
 */
import type { KubeEnvVar, VolumeEntry } from "../pods/pod";

/** Where the Docker config Secret is mounted, and `DOCKER_CONFIG`. */
export const DOCKER_CONFIG_DIR = "/etc/earthly-kubernetes/docker";
/** The key Kubernetes gives a `kubernetes.io/dockerconfigjson` Secret. */
export const DOCKER_CONFIG_JSON_KEY = ".dockerconfigjson";

/** The Docker config Secret's volume, mount and `DOCKER_CONFIG` (none without it). */
export function dockerConfigPieces(secretName: string | undefined): {
  env: KubeEnvVar[];
  volumes: VolumeEntry[];
} {
  if (secretName === undefined) return { env: [], volumes: [] };
  return {
    env: [{ name: "DOCKER_CONFIG", value: DOCKER_CONFIG_DIR }],
    volumes: [
      {
        volume: {
          name: "docker-config",
          secret: {
            secretName,
            items: [{ key: DOCKER_CONFIG_JSON_KEY, path: "config.json" }],
            defaultMode: 0o400,
          },
        },
        mount: { name: "docker-config", mountPath: DOCKER_CONFIG_DIR, readOnly: true },
      },
    ],
  };
}
