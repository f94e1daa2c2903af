/**
 * Build secrets (`RUN --secret NAME` in an Earthfile) from Kubernetes Secrets, by reference.
 *
 * Earthly takes a secret's value three ways: `--secret NAME=value` on the command line,
 * `--secret NAME` with the value read from the environment variable `NAME`, or `EARTHLY_SECRETS`
 * (`NAME=value,...` in one variable). Each secret becomes here a variable whose value comes from
 * the Secret (`valueFrom.secretKeyRef`) plus the flag `--secret NAME`: the pod spec holds only the
 * Secret's name and key, and the process list (the command line) only the secret's name. The first
 * way would put the value in the container's arguments, the pod spec and every process list; the
 * third needs every value joined in one Secret key, and a comma in a value breaks it.
 */
import { KeyReference, KubeEnvVar, RESERVED_ENV, keyReferenceRule } from "../pods/pod";
import { Rule } from "../validation/errors";
import { allOf, eachOf, envVarName, objectOf, uniqueBy } from "../validation/rules";

/** One build secret: the name an Earthfile's `RUN --secret` asks for, and the Secret key holding its value. */
export interface BuildSecret {
  /**
   * The secret's name as the Earthfile names it (`RUN --secret NAME` or `RUN --secret VAR=NAME`). It
   * is also the name of the variable that carries the value into Earthly, so it must be a valid
   * environment variable name, and not one Earthly or the components read.
   */
  name: string;
  /** The key of a Secret in the Job's namespace holding the value; the Secret must exist before the Job starts. */
  secretKeyRef: KeyReference;
}

/**
 * Names a build secret may not take: the variables the components set, those the `earthly/earthly`
 * entrypoint or Earthly read (an `EARTHLY_*` variable is one of Earthly's own flags), the ones the
 * Git and registry access set up or Earthly reads for them (`NETRC`, `NETRC_CONTENT`, `SSH_AUTH_SOCK`,
 * `DOCKER_CONFIG`), and the ones a process depends on: the loader's, the shells', the proxies' and
 * the TLS roots'.
 */
export const RESERVED_SECRET_NAMES: readonly string[] = [
  ...RESERVED_ENV,
  "HOME",
  "PATH",
  "USER",
  "TMPDIR",
  "GLOBAL_CONFIG",
  "GIT_CONFIG",
  "NO_DOCKER",
  "DOCKER_HOST",
  "DOCKER_CONFIG",
  "SSH_AUTH_SOCK",
  "NETRC",
  "NETRC_CONTENT",
  "FORCE_COLOR",
  "NO_COLOR",
  // Read by the dynamic loader and the shells (the Git wrapper, the image's entrypoint).
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
  "BASH_ENV",
  "ENV",
  "SHELLOPTS",
  "IFS",
  "PS4",
  // Read by Earthly's HTTP clients (Go reads both cases) and its TLS roots.
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
];
/** Prefixes a build secret's name may not start with: Earthly's (and EarthBuild's), BuildKit's and Git's own variables. */
export const RESERVED_SECRET_PREFIXES: readonly string[] = ["EARTHLY_", "EARTH_", "BUILDKIT_", "GIT_"];

const secretName: Rule<string> = (value, field) => {
  const syntax = envVarName(value, field);
  if (syntax.length > 0) return syntax;
  return RESERVED_SECRET_NAMES.includes(value) || RESERVED_SECRET_PREFIXES.some((p) => value.startsWith(p))
    ? [
        {
          field,
          value,
          allowed: `an environment variable name other than ${RESERVED_SECRET_NAMES.join(", ")} and not starting with ${RESERVED_SECRET_PREFIXES.join(", ")}: the components or Earthly use those`,
        },
      ]
    : [];
};

const buildSecretRule: Rule<BuildSecret> = (value, field) => [
  ...(value.name === undefined
    ? [{ field: `${field}.name`, value: undefined, allowed: "the secret's name" }]
    : []),
  ...(value.secretKeyRef === undefined
    ? [{ field: `${field}.secretKeyRef`, value: undefined, allowed: "a Secret name and key" }]
    : []),
  ...objectOf<BuildSecret>({ name: secretName, secretKeyRef: keyReferenceRule })(value, field),
];

/** Checks the list of build secrets: each valid, no name twice. */
export const buildSecretsRule: Rule<BuildSecret[]> = allOf(
  eachOf(buildSecretRule),
  uniqueBy((s) => s.name, "a secret name not already listed"),
);

/** The container variables carrying the secrets: each from its Secret key, never a value. */
export function buildSecretEnv(secrets: readonly BuildSecret[] | undefined): KubeEnvVar[] {
  return (secrets ?? []).map((s): KubeEnvVar => ({
    name: s.name,
    valueFrom: {
      secretKeyRef: {
        name: s.secretKeyRef.name,
        key: s.secretKeyRef.key,
        ...(s.secretKeyRef.optional !== undefined ? { optional: s.secretKeyRef.optional } : {}),
      },
    },
  }));
}

/** Earthly's flags for the secrets: `--secret NAME`, the value read from the variable of that name. */
export function buildSecretFlags(secrets: readonly BuildSecret[] | undefined): string[] {
  return (secrets ?? []).flatMap((s) => ["--secret", s.name]);
}
