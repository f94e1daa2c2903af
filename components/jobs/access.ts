/**
 * What Git credentials and registry credentials add to an Earthly Job's container and pod (see
 * `git.ts` and `registries.ts`), in one place for both Jobs.
 */
import type * as kubernetes from "@pulumi/kubernetes";
import type { KubeEnvVar, VolumeEntry } from "../pods/pod";
import { GitCredentials, gitPodPieces } from "./git";
import { dockerConfigPieces } from "./dockerConfig";
import { imagePullSecretsOf } from "../pods/registries";

/** The container's extra variables, volumes and command, and the pod's `imagePullSecrets`. */
export interface AccessPieces {
  env: KubeEnvVar[];
  volumes: VolumeEntry[];
  command?: string[];
  imagePullSecrets?: kubernetes.types.input.core.v1.LocalObjectReference[];
}

/** The pieces for a Job's `gitCredentials`, `dockerConfigSecret` and `imagePullSecrets`. */
export function accessPieces(args: {
  gitCredentials?: GitCredentials;
  dockerConfigSecret?: string;
  imagePullSecrets?: string[];
}): AccessPieces {
  const git = gitPodPieces(args.gitCredentials);
  const docker = dockerConfigPieces(args.dockerConfigSecret);
  return {
    env: [...git.env, ...docker.env],
    volumes: [...git.volumes, ...docker.volumes],
    command: git.command,
    imagePullSecrets: imagePullSecretsOf(args.imagePullSecrets),
  };
}
