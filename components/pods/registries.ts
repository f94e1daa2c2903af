/**
 * Registry settings every workload shares: the pod's `imagePullSecrets`, and BuildKit's registry
 * mirrors and insecure registries for the daemons (the fleet's and the all-in-one's embedded one).
 *
 * Earthly's `buildkit_additional_config` setting reaches BuildKit only when Earthly starts buildkitd
 * itself with Docker: it then sets `EARTHLY_ADDITIONAL_BUILDKIT_CONFIG` on that container, and the
 * `earthly/buildkitd` entrypoint appends the variable to the `buildkitd.toml` it writes (its
 * `buildkitd.toml.template` ends with `${EARTHLY_ADDITIONAL_BUILDKIT_CONFIG}`). Neither the
 * all-in-one pod (whose entrypoint starts buildkitd) nor the fleet goes through Earthly, so the
 * components set that variable themselves.
 */
import type * as kubernetes from "@pulumi/kubernetes";
import type { EnvClaim, KubeEnvVar } from "./pod";
import { sortedByKey } from "../values/deterministic";
import { ADDITIONAL_BUILDKIT_CONFIG_ENV, envNamesRefusedAs } from "./envNames";
import { Problem, Rule } from "../validation/errors";
import { booleanValue, eachOf, rfc1123Subdomain, uniqueBy } from "../validation/rules";

/** BuildKit's settings for one registry (a `[registry."<host>"]` table of `buildkitd.toml`). */
export interface BuildkitRegistry {
  /** Mirrors to pull from instead, in order, e.g. `["mirror.example.com"]` (host, optional port and path). */
  mirrors?: string[];
  /** Plain HTTP instead of HTTPS (default false). */
  http?: boolean;
  /** Accept a certificate BuildKit cannot verify (default false). */
  insecure?: boolean;
}

const REGISTRY_HOST =
  /^(?=.{1,253}(:|$))[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:\d{1,5})?$/i;

/** A registry host as BuildKit names it: a DNS name or address with an optional port (`docker.io`, `reg:5000`). */
export const registryHostRule: Rule<string> = (value, field) =>
  typeof value === "string" && REGISTRY_HOST.test(value)
    ? []
    : [{ field, value, allowed: "a registry host such as 'docker.io' or 'registry.example.com:5000'" }];

/** A mirror: a registry host, optionally with a path (`mirror.example.com/docker-hub`). */
const mirrorRule: Rule<string> = (value, field) => {
  if (typeof value !== "string") return [{ field, value, allowed: "a mirror host" }];
  const [host, ...rest] = value.split("/");
  const path = rest.join("/");
  return registryHostRule(host, field).length === 0 && (path === "" || /^[a-z0-9][a-z0-9._/-]*$/.test(path))
    ? []
    : [
        {
          field,
          value,
          allowed: "a mirror such as 'mirror.example.com' or 'mirror.example.com:5000/docker-hub'",
        },
      ];
};

/** The rule for `buildkitRegistries`. */
export const buildkitRegistriesRule: Rule<{ [host: string]: BuildkitRegistry }> = (value, field) =>
  Object.entries(value).flatMap(([host, registry]): Problem[] => {
    const at = `${field}[${JSON.stringify(host)}]`;
    if (registry === null || typeof registry !== "object")
      return [{ field: at, value: registry, allowed: "an object" }];
    const unknown = Object.keys(registry).filter((k) => !["mirrors", "http", "insecure"].includes(k));
    return [
      ...registryHostRule(host, `${field} key`),
      ...unknown.map((k) => ({ field: `${at}.${k}`, value: k, allowed: "mirrors, http or insecure" })),
      ...(registry.mirrors !== undefined
        ? [
            ...eachOf(mirrorRule)(registry.mirrors, `${at}.mirrors`),
            ...uniqueBy<string>((m) => m, "a mirror not already listed")(registry.mirrors, `${at}.mirrors`),
          ]
        : []),
      ...(registry.http !== undefined ? booleanValue(registry.http, `${at}.http`) : []),
      ...(registry.insecure !== undefined ? booleanValue(registry.insecure, `${at}.insecure`) : []),
      ...(registry.mirrors === undefined && registry.http === undefined && registry.insecure === undefined
        ? [{ field: at, value: registry, allowed: "at least one of mirrors, http or insecure" }]
        : []),
    ];
  });

/** The rule for `imagePullSecrets`: Secret names, each once. */
export const imagePullSecretsRule: Rule<string[]> = (value, field) => [
  ...eachOf(rfc1123Subdomain)(value, field),
  ...uniqueBy<string>((s) => s, "a Secret not already listed")(value, field),
];

/** BuildKit's TOML for the registries (`[registry."<host>"]` tables), keys sorted. */
export function buildkitRegistriesToml(registries: { [host: string]: BuildkitRegistry } | undefined): string {
  // JSON string literals are valid TOML basic strings for these (validated) characters.
  return Object.entries(sortedByKey(registries ?? {}))
    .map(([host, r]) =>
      [
        `[registry.${JSON.stringify(host)}]`,
        ...(r.mirrors && r.mirrors.length > 0
          ? [`  mirrors = [${r.mirrors.map((m) => JSON.stringify(m)).join(", ")}]`]
          : []),
        ...(r.http !== undefined ? [`  http = ${r.http}`] : []),
        ...(r.insecure !== undefined ? [`  insecure = ${r.insecure}`] : []),
      ].join("\n"),
    )
    .join("\n\n");
}

/** The daemon's variable for the registries (none without them). */
export function buildkitRegistriesEnv(
  registries: { [host: string]: BuildkitRegistry } | undefined,
): KubeEnvVar[] {
  return registries && Object.keys(registries).length > 0
    ? [{ name: ADDITIONAL_BUILDKIT_CONFIG_ENV, value: `${buildkitRegistriesToml(registries)}\n` }]
    : [];
}

/** The variable `buildkitRegistries` sets, for the rule that refuses it in `env` (none without them). */
export function buildkitRegistriesClaim(
  registries: { [host: string]: BuildkitRegistry } | undefined,
): EnvClaim {
  return {
    by: "buildkitRegistries",
    names: Object.keys(registries ?? {}).length > 0 ? envNamesRefusedAs("claimed", "buildkitRegistries") : [],
  };
}

/** The pod's `imagePullSecrets` (undefined without any). */
export function imagePullSecretsOf(
  names: readonly string[] | undefined,
): kubernetes.types.input.core.v1.LocalObjectReference[] | undefined {
  return names && names.length > 0 ? names.map((name) => ({ name })) : undefined;
}
