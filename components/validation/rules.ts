/**
 * The rules every component and the demo program share. A rule looks at one value and returns the
 * problems it finds.
 */
import { isIP } from "node:net";
import * as path from "node:path";
import { Problem, Rule } from "./errors";

function problem(field: string, value: unknown, allowed: string): Problem[] {
  return [{ field, value, allowed }];
}

// ---------------------------------------------------------------------------------------------
// Rules. Each is a small function or a factory of one; names say what they accept.
// ---------------------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** An RFC 1123 label: lower-case alphanumerics and `-`, starting and ending alphanumeric, <= 63. */
export const rfc1123Label: Rule<string> = (value, field) =>
  typeof value === "string" && value.length <= 63 && DNS_LABEL.test(value)
    ? []
    : problem(
        field,
        value,
        "an RFC 1123 label: 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit",
      );

/** An RFC 1035 label (what Service names must be): starts with a letter. */
export const rfc1035Label: Rule<string> = (value, field) =>
  typeof value === "string" && value.length <= 63 && DNS_1035_LABEL.test(value)
    ? []
    : problem(
        field,
        value,
        "an RFC 1035 label: 1-63 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit",
      );

/** An RFC 1123 subdomain (what most Kubernetes object names must be), <= 253 characters. */
export const rfc1123Subdomain: Rule<string> = (value, field) =>
  typeof value === "string" &&
  value.length <= 253 &&
  value.split(".").every((label) => label.length <= 63 && DNS_LABEL.test(label))
    ? []
    : problem(field, value, "an RFC 1123 subdomain: dot-separated RFC 1123 labels, at most 253 characters");

/**
 * A name for a kind cluster. kind prefixes it to container and context names, so it must be a DNS
 * label; we also keep it short enough that `<name>-control-plane` and `<name>-worker99` stay labels.
 */
export const kindClusterName: Rule<string> = (value, field) =>
  typeof value === "string" && value.length <= 40 && DNS_LABEL.test(value)
    ? []
    : problem(
        field,
        value,
        "a kind cluster name: 1-40 lower-case letters, digits or '-', starting and ending with a letter or digit",
      );

/** A DNS name that may appear in a certificate (optionally a single leading wildcard label). */
export const dnsName: Rule<string> = (value, field) => {
  const ok =
    typeof value === "string" &&
    value.length <= 253 &&
    value
      .replace(/^\*\./, "")
      .split(".")
      .every((label) => label.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i.test(label));
  return ok ? [] : problem(field, value, "a DNS name such as 'buildkit.example.com' (optionally '*.' first)");
};

/** An IPv4 or IPv6 address literal. */
export const ipAddress: Rule<string> = (value, field) => {
  return typeof value === "string" && isIP(value) !== 0
    ? []
    : problem(field, value, "an IPv4 or IPv6 address literal");
};

/** A CIDR block such as `10.0.0.0/8` or `fd00::/8`. */
export const cidr: Rule<string> = (value, field) => {
  const match = typeof value === "string" ? /^([^/]+)\/(\d{1,3})$/.exec(value) : null;
  const family = match ? isIP(match[1]) : 0;
  const bits = match ? Number(match[2]) : -1;
  return family !== 0 && bits >= 0 && bits <= (family === 4 ? 32 : 128)
    ? []
    : problem(field, value, "a CIDR block such as '10.0.0.0/8' or 'fd00::/8'");
};

/** An integer in [min, max]. */
export function integerBetween(min: number, max: number): Rule<number> {
  return (value, field) =>
    Number.isInteger(value) && value >= min && value <= max
      ? []
      : problem(field, value, `an integer from ${min} to ${max}`);
}

/** One of the listed strings. */
export function oneOf<T extends string>(allowed: readonly T[]): Rule<T> {
  return (value, field) =>
    allowed.includes(value) ? [] : problem(field, value, `one of ${allowed.map((a) => `'${a}'`).join(", ")}`);
}

/** `true` or `false`. */
export const booleanValue: Rule<boolean> = (value, field) =>
  typeof value === "boolean" ? [] : problem(field, value, "true or false");

/** A non-empty string without control characters (used for free text such as targets). */
export const printableText: Rule<string> = (value, field) =>
  typeof value === "string" &&
  value.length > 0 &&
  value.length <= 4096 &&
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  !/[\u0000-\u001f\u007f]/.test(value)
    ? []
    : problem(field, value, "a non-empty string of at most 4096 characters without control characters");

/** An Earthly release tag, e.g. `v0.8.16`. */
export const earthlyVersion: Rule<string> = (value, field) =>
  typeof value === "string" && /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(value)
    ? []
    : problem(field, value, "an Earthly release tag such as 'v0.8.16' (v, then MAJOR.MINOR.PATCH)");

/** An image repository without tag or digest, e.g. `earthly/earthly` or `registry.example.com:5000/mirror/earthly`. */
export const imageRepository: Rule<string> = (value, field) =>
  typeof value === "string" &&
  value.length <= 255 &&
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(
    value,
  )
    ? []
    : problem(field, value, "an image repository without tag or digest, such as 'earthly/earthly'");

/** A full image reference with a tag or digest, e.g. `earthly/earthly:v0.8.16` or `repo@sha256:...`. */
export const imageReference: Rule<string> = (value, field) => {
  if (typeof value !== "string") return problem(field, value, "an image reference string");
  const digest = /^(.+)@sha256:[a-f0-9]{64}$/.exec(value);
  const base = digest ? digest[1] : value;
  const tagged = /^(.+):([\w][\w.-]{0,127})$/.exec(base);
  const repository = tagged && !tagged[2].includes("/") ? tagged[1] : base;
  const hasVersion = digest !== null || (tagged !== null && !tagged[2].includes("/"));
  return hasVersion && imageRepository(repository, field).length === 0
    ? []
    : problem(
        field,
        value,
        "an image reference with a tag or digest, such as 'earthly/earthly:v0.8.16' or 'repo/image@sha256:<64 hex>'",
      );
};

/** An image digest, `sha256:` and 64 lower-case hex digits, as `docker buildx imagetools inspect` prints it. */
export const imageDigest: Rule<string> = (value, field) =>
  typeof value === "string" && /^sha256:[a-f0-9]{64}$/.test(value)
    ? []
    : problem(field, value, "an image digest: 'sha256:' followed by 64 lower-case hex digits");

/**
 * A non-negative resource quantity in the API's grammar (k8s.io/apimachinery `resource.Quantity`):
 * a number (`1`, `1.5`, `1.`, `.5`, an optional `+`), then one suffix: binary `Ki`..`Ei`, decimal
 * `n u m k M G T P E`, or an exponent `e3` / `E-3`. Capture groups: number, binary, decimal, exponent.
 */
const QUANTITY = /^\+?(\d+\.?\d*|\.\d+)(?:([KMGTPE]i)|([numkMGTPE])|[eE]([-+]?\d+))?$/;

const BINARY_POWER: { [suffix: string]: number } = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_EXPONENT: { [suffix: string]: number } = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

/** A Kubernetes resource quantity, e.g. `500m`, `2`, `4Gi`, `1.5`. */
export const quantity: Rule<string> = (value, field) =>
  typeof value === "string" && QUANTITY.test(value)
    ? []
    : problem(
        field,
        value,
        "a Kubernetes quantity: a non-negative number with at most one suffix (Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or e<exponent>), such as '500m', '2', '512Mi' or '4Gi'",
      );

/** The value of a quantity {@link quantity} accepts, as a number (for comparing two quantities). */
export function quantityValue(value: string): number {
  const match = QUANTITY.exec(value);
  if (!match) return Number.NaN;
  const [, number, binary, decimal, exponent] = match;
  const n = Number(number);
  if (binary !== undefined) return n * 1024 ** BINARY_POWER[binary];
  if (decimal !== undefined) return n * 10 ** DECIMAL_EXPONENT[decimal];
  return exponent !== undefined ? n * 10 ** Number(exponent) : n;
}

/** Directories a build volume must never replace. */
export const SYSTEM_DIRECTORIES: readonly string[] = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib64",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
  "/var",
  "/tmp",
];

/** An absolute, normalised path that is not `/` and not a system directory. */
export const mountPath: Rule<string> = (value, field) =>
  typeof value === "string" &&
  value.startsWith("/") &&
  path.posix.normalize(value) === value &&
  !value.endsWith("/") &&
  !SYSTEM_DIRECTORIES.includes(value) &&
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  !/[\u0000-\u001f:]/.test(value)
    ? []
    : problem(
        field,
        value,
        `an absolute, normalised path without a trailing '/', other than '/' and the system directories ${SYSTEM_DIRECTORIES.join(", ")}`,
      );

/**
 * A build's source directory: a {@link mountPath} outside every system directory too, since a
 * volume there would hide or be hidden by what the image keeps there (`/usr/src`, `/run/x`, `/etc/x`).
 */
export const sourcePath: Rule<string> = (value, field) => {
  const problems = mountPath(value, field);
  if (problems.length > 0) return problems;
  const under = SYSTEM_DIRECTORIES.find((dir) => value.startsWith(`${dir}/`));
  return under === undefined
    ? []
    : problem(
        field,
        value,
        `a directory outside the system directories (this one is under ${under}), such as /workspace or /src`,
      );
};

/** A Kubernetes label key (optional DNS-subdomain prefix, then a name of <= 63 characters). */
export const labelKey: Rule<string> = (value, field) => {
  if (typeof value !== "string") return problem(field, value, "a label key string");
  const slash = value.lastIndexOf("/");
  const prefix = slash >= 0 ? value.slice(0, slash) : undefined;
  const name = slash >= 0 ? value.slice(slash + 1) : value;
  const nameOk = name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
  const prefixOk = prefix === undefined || rfc1123Subdomain(prefix, field).length === 0;
  return nameOk && prefixOk
    ? []
    : problem(field, value, "a label key: an optional DNS subdomain and '/', then 1-63 of [A-Za-z0-9-_.]");
};

/** A Kubernetes label value (empty, or <= 63 alphanumerics and `-_.`, alphanumeric at both ends). */
export const labelValue: Rule<string> = (value, field) =>
  typeof value === "string" &&
  value.length <= 63 &&
  (value === "" || /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(value))
    ? []
    : problem(field, value, "a label value: at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric");

/** A map of Kubernetes labels. */
export const labelMap: Rule<Record<string, string>> = (value, field) =>
  Object.entries(value).flatMap(([k, v]) => [
    ...labelKey(k, `${field} key`),
    ...labelValue(v, `${field}[${JSON.stringify(k)}]`),
  ]);

/** An environment variable name. */
export const envVarName: Rule<string> = (value, field) =>
  typeof value === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(value)
    ? []
    : problem(
        field,
        value,
        "an environment variable name: letters, digits and '_', not starting with a digit",
      );

/** Applies `rule` to each element of an array. */
export function eachOf<T>(rule: Rule<T>): Rule<T[]> {
  return (value, field) =>
    Array.isArray(value)
      ? value.flatMap((item, i) => rule(item, `${field}[${i}]`))
      : problem(field, value, "a list");
}

/** Applies every rule to the same value. */
export function allOf<T>(...rules: Rule<T>[]): Rule<T> {
  return (value, field) => rules.flatMap((rule) => rule(value, field));
}

/** Refuses a list in which an item repeats the `key` of an earlier one; names the repeated item. */
export function uniqueBy<T>(key: (item: T) => unknown, allowed: string): Rule<T[]> {
  return (value, field) => {
    if (!Array.isArray(value)) return [];
    const keys = value.map(key);
    return keys.flatMap((k, i) => (keys.indexOf(k) < i ? problem(`${field}[${i}]`, k, allowed) : []));
  };
}

/**
 * Checks an object field by field: a rule for every field of `T` (the compiler insists; `anyValue`
 * where any value does), undefined fields skipped, and a field `T` does not have refused by name, so
 * a misspelt option (`egress.clusterCidr`) is an error, not silently nothing.
 */
export function objectOf<T extends object>(rules: { [K in keyof T]-?: Rule<NonNullable<T[K]>> }): Rule<T> {
  const known = Object.keys(rules);
  return (value, field) => {
    if (value === null || typeof value !== "object" || Array.isArray(value))
      return problem(field, value, "an object");
    const fields = value as Record<string, unknown>;
    const unknown = Object.keys(fields)
      .filter((key) => !known.includes(key) && fields[key] !== undefined)
      .flatMap((key) =>
        problem(`${field}.${key}`, fields[key], `no such field; the fields are ${known.join(", ")}`),
      );
    return [
      ...unknown,
      ...(Object.entries(rules) as [string, Rule<unknown>][]).flatMap(([key, rule]) => {
        const item = fields[key];
        return item === undefined || item === null ? [] : rule(item, `${field}.${key}`);
      }),
    ];
  };
}

/** Requires a value to be present. */
export function required(field: string, value: unknown, what: string): Problem[] {
  return value === undefined || value === null || value === "" ? problem(field, value, what) : [];
}

/** Any value: for an argument whose every value is acceptable, or is checked where it is used. */
export const anyValue: Rule<unknown> = () => [];
