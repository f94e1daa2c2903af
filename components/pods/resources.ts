/**
 * A container's compute resources: CPU, memory and ephemeral storage, and any other resource by its
 * Kubernetes name (extended resources such as `nvidia.com/gpu`, huge pages), checked as the API
 * server checks them, so a pool of GPU nodes is an input and a bad value fails at preview.
 */
import type * as kubernetes from "@pulumi/kubernetes";
import { pruneUndefined, sortedByKey } from "../values/deterministic";
import { Problem, Rule } from "../validation/errors";
import { labelKey, objectOf, quantity, quantityValue } from "../validation/rules";

/** CPU, memory and ephemeral storage amounts, and other resources, as Kubernetes quantities. */
export interface ComputeResources {
  /** CPU, e.g. `500m` or `2`. */
  cpu?: string;
  /** Memory, e.g. `1Gi`. */
  memory?: string;
  /** Node-local ephemeral storage, e.g. `20Gi`. */
  ephemeralStorage?: string;
  /**
   * Other resources by their Kubernetes names: extended resources a device plugin advertises, e.g.
   * `{ "nvidia.com/gpu": "1" }` (whole numbers), and huge pages, e.g. `{ "hugepages-2Mi": "512Mi" }`.
   * Neither can be overcommitted: a request needs a limit, and equals it (a limit alone is also
   * the request).
   */
  extended?: { [resource: string]: string };
}

/** Requests and limits for a container. Fields given replace the documented defaults one by one. */
export interface Resources {
  /** What the scheduler reserves for the container. */
  requests?: ComputeResources;
  /** The most the container may use. */
  limits?: ComputeResources;
}

/** Huge pages of one size, `hugepages-<size>` (the size a quantity). */
const HUGEPAGES = /^hugepages-(.+)$/;

/** What kind of resource an `extended` name is: huge pages, an extended resource, or neither. */
function resourceKind(name: string): "hugepages" | "extended" | undefined {
  const hugepages = HUGEPAGES.exec(name);
  if (hugepages)
    return quantity(hugepages[1], "").length === 0 && quantityValue(hugepages[1]) > 0
      ? "hugepages"
      : undefined;
  // The API's rule (IsExtendedResourceName): a qualified name with a domain outside kubernetes.io.
  if (!name.includes("/") || name.includes("kubernetes.io/")) return undefined;
  return labelKey(name, "").length === 0 && labelKey(`requests.${name}`, "").length === 0
    ? "extended"
    : undefined;
}

/** The rule for `extended`: names as the API server accepts them, whole numbers for extended resources. */
const extendedResourcesRule: Rule<{ [resource: string]: string }> = (value, field) =>
  Object.entries(value).flatMap(([name, amount]): Problem[] => {
    const at = `${field}[${JSON.stringify(name)}]`;
    const kind = resourceKind(name);
    if (kind === undefined) {
      return [
        {
          field: `${field} key`,
          value: name,
          allowed:
            "an extended resource such as 'nvidia.com/gpu' (a domain outside kubernetes.io, '/', a name) or huge pages such as 'hugepages-2Mi'; cpu, memory and ephemeral storage have fields of their own",
        },
      ];
    }
    const amountProblems = quantity(amount, at);
    if (amountProblems.length > 0) return amountProblems;
    return kind === "extended" && !Number.isInteger(quantityValue(amount))
      ? [{ field: at, value: amount, allowed: "a whole number: extended resources come in units" }]
      : [];
  });

export const computeResourcesRule: Rule<ComputeResources> = objectOf<ComputeResources>({
  cpu: quantity,
  memory: quantity,
  ephemeralStorage: quantity,
  extended: extendedResourcesRule,
});

export const resourcesRule: Rule<Resources> = objectOf<Resources>({
  requests: computeResourcesRule,
  limits: computeResourcesRule,
});

/**
 * Limits below their requests, which the API server refuses only at deploy (half-way through an
 * `up`): CPU and memory compared after the defaults are merged in (a limit given alone must still
 * cover the default request), ephemeral storage as given (its defaults follow the volumes). An
 * extended resource or huge pages requested without a limit, or with another limit, are refused too.
 */
export function resourceOrderProblems(
  defaults: Resources,
  given: Resources | undefined,
  field = "resources",
): Problem[] {
  if (given === undefined) return [];
  const merged = mergeResources(defaults, given);
  const pairs: [Exclude<keyof ComputeResources, "extended">, ComputeResources, ComputeResources][] = [
    ["cpu", merged.requests ?? {}, merged.limits ?? {}],
    ["memory", merged.requests ?? {}, merged.limits ?? {}],
    ["ephemeralStorage", given.requests ?? {}, given.limits ?? {}],
  ];
  const ordered = pairs.flatMap(([key, requests, limits]) => {
    const request = requests[key];
    const limit = limits[key];
    if (typeof request !== "string" || typeof limit !== "string") return [];
    if (!(quantityValue(limit) < quantityValue(request))) return [];
    const fromDefault = given.requests?.[key] === undefined ? " (the default)" : "";
    return [
      {
        field: `${field}.limits.${key}`,
        value: limit,
        allowed: `a limit at least its request, ${request}${fromDefault}: Kubernetes refuses a limit below the request`,
      },
    ];
  });
  const limits = given.limits?.extended ?? {};
  const unequal = Object.entries(given.requests?.extended ?? {}).flatMap(([name, request]): Problem[] => {
    const limit = limits[name];
    if (limit === undefined) {
      return [
        {
          field: `${field}.limits.extended[${JSON.stringify(name)}]`,
          value: undefined,
          allowed: `a limit equal to the request, ${request}: Kubernetes does not overcommit ${name}`,
        },
      ];
    }
    return quantityValue(limit) === quantityValue(request)
      ? []
      : [
          {
            field: `${field}.limits.extended[${JSON.stringify(name)}]`,
            value: limit,
            allowed: `the request, ${request}: Kubernetes does not overcommit ${name}, so its request equals its limit`,
          },
        ];
  });
  return [...ordered, ...unequal];
}

/** Merges user resources over defaults, field by field (`extended` as a whole). */
export function mergeResources(defaults: Resources, given: Resources | undefined): Resources {
  return {
    requests: { ...defaults.requests, ...(given?.requests ?? {}) },
    limits: { ...defaults.limits, ...(given?.limits ?? {}) },
  };
}

/** The container's `resources`, with the other resources after the three named ones, by name. */
export function toKubeResources(resources: Resources): kubernetes.types.input.core.v1.ResourceRequirements {
  const convert = (c: ComputeResources | undefined) =>
    c === undefined
      ? undefined
      : pruneUndefined({
          cpu: c.cpu,
          memory: c.memory,
          "ephemeral-storage": c.ephemeralStorage,
          ...sortedByKey(c.extended ?? {}),
        });
  return pruneUndefined<kubernetes.types.input.core.v1.ResourceRequirements>({
    requests: convert(resources.requests),
    limits: convert(resources.limits),
  });
}
