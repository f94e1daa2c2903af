/**
 * The one validation layer every component and the demo program share.
 *
 * A rule looks at one value and returns the problems it finds; each problem names the field, the
 * value and what is allowed. Components run their rules twice: synchronously in the constructor on
 * every argument whose value is already known (so a bad literal stops the preview before any child
 * resource exists), and again inside the `apply` that builds their specs, once `Input`s resolve.
 */
import { isIP } from "node:net";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** One thing wrong with one argument. */
export interface Problem {
  /** Dotted path of the argument, e.g. `workerPools[0].taints[1].effect`. */
  field: string;
  /** The value that was given. */
  value: unknown;
  /** What would have been accepted. */
  allowed: string;
}

/** A check of one value; returns no problems when the value is acceptable. */
export type Rule<T> = (value: T, field: string) => Problem[];

/**
 * The SDK knows its error types by a marker property rather than by class (so that several copies of
 * the SDK agree); this is InputPropertiesError's, taken from a real one rather than spelled out.
 */
const INPUT_PROPERTIES_ERROR_MARKER: { [key: string]: true } = Object.fromEntries(
  Object.entries(new pulumi.InputPropertiesError({ message: "", errors: [] })).filter(([, v]) => v === true),
);

/**
 * Thrown when arguments are invalid; the message names component, field, value and what is allowed.
 *
 * A `pulumi.RunError`: for those the CLI prints only the message, where any other error shows as an
 * "unhandled exception" with a stack trace, whether it is thrown at construction or inside an
 * `apply`. It also passes as a `pulumi.InputPropertiesError` (one entry in `errors` per problem):
 * when another language constructs the component through the provider, the engine then reports
 * each problem against its property.
 */
export class InvalidArgumentsError extends pulumi.RunError {
  /** The problems as the SDK's InputPropertiesError carries them: one per problem. */
  readonly errors: pulumi.InputPropertyErrorDetails[];

  constructor(
    readonly component: string,
    readonly problems: Problem[],
  ) {
    const message = problems.map((p) => `${component}: invalid ${p.field}: ${problemReason(p)}`).join("\n");
    super(message);
    this.name = "InvalidArgumentsError";
    this.errors = problems.map((p) => ({ propertyPath: p.field, reason: problemReason(p) }));
    Object.assign(this, INPUT_PROPERTIES_ERROR_MARKER);
    // Thrown inside an apply, the SDK prefixes the message once per resource property it fails to
    // serialize ('error serializing property "metadata": ...'); the message already names component
    // and field, so it keeps its one format.
    Object.defineProperty(this, "message", { get: () => message, set: () => undefined, configurable: true });
    // The message alone, as `toolError` does (see there why).
    this.stack = message;
  }
}

/**
 * A `pulumi.RunError` whose `stack` is its message. The CLI prints only a RunError's message, except
 * when it rejects after the program has finished (as one thrown in an `apply` often does): then its
 * first handler prints `stack`. So the user reads the message alone either way.
 */
export function toolError(message: string): pulumi.RunError {
  const error = new pulumi.RunError(message);
  error.stack = message;
  return error;
}

function problemReason(p: Problem): string {
  return `got ${describeValue(p.value)}; allowed: ${p.allowed}`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  // JSON has no NaN or Infinity (it would print null): e.g. a config value that is not a number.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/** Throws an {@link InvalidArgumentsError} when there are problems. */
export function assertNoProblems(component: string, problems: Problem[]): void {
  if (problems.length > 0) throw new InvalidArgumentsError(component, problems);
}

function problem(field: string, value: unknown, allowed: string): Problem[] {
  return [{ field, value, allowed }];
}

/** True when the value, or anything inside it, is not yet known (an Output or a Promise). */
export function containsUnknown(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** Per-field rules for an arguments object. */
export type ArgRules<A> = { [K in keyof A]-?: Rule<NonNullable<pulumi.Unwrap<A[K]>>> };

/**
 * A rule across fields. At construction it runs as soon as the fields it `reads` are known; fields
 * it only tests for presence need not be listed: there, a value not known yet stands as
 * {@link NOT_YET_KNOWN}, which is present but has no fields.
 */
export interface CrossRule<A> {
  /** Fields whose values the rule looks into or compares. */
  reads: readonly (keyof A)[];
  check: (args: pulumi.Unwrap<A>) => Problem[];
}

/** Everything checked about an arguments object: a rule per field and rules across fields. */
export interface ArgChecks<A> {
  rules: Partial<ArgRules<A>>;
  cross?: readonly CrossRule<A>[];
}

/** What a cross-field rule sees, at construction, in place of a value not known yet. */
export const NOT_YET_KNOWN: { readonly notYetKnown: true } = Object.freeze({ notYetKnown: true });

/** The arguments with every value not known yet replaced by {@link NOT_YET_KNOWN}. */
function knownView(value: unknown): unknown {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return NOT_YET_KNOWN;
  if (Array.isArray(value)) return value.map(knownView);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, knownView(v)]));
  }
  return value;
}

/**
 * Every problem the checks find in an arguments object. With `knownOnly`, a field rule skips a
 * field holding an Output, and a cross-field rule waits for the fields it reads. Cross-field rules
 * run only when every field rule passed, so one mistake gives one message.
 */
export function argProblems<A extends object>(args: A, checks: ArgChecks<A>, knownOnly = false): Problem[] {
  const fields = args as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const [key, rule] of Object.entries(checks.rules) as [string, Rule<unknown> | undefined][]) {
    const value = fields[key];
    if (rule === undefined || value === undefined || value === null) continue;
    if (knownOnly && containsUnknown(value)) continue;
    problems.push(...rule(value, key));
  }
  if (problems.length > 0) return problems;
  const view = (knownOnly ? knownView(args) : args) as pulumi.Unwrap<A>;
  for (const rule of checks.cross ?? []) {
    if (knownOnly && rule.reads.some((field) => containsUnknown(fields[field as string]))) continue;
    problems.push(...rule.check(view));
  }
  return problems;
}

/** Checks the arguments whose values are known now; call it before creating any child resource. */
export function checkKnownArgs<A extends object>(component: string, args: A, checks: ArgChecks<A>): void {
  assertNoProblems(component, argProblems(args, checks, true));
}

/** Checks fully resolved arguments (inside the `apply` that builds a spec). */
function checkResolvedArgs<A extends object>(
  component: string,
  args: pulumi.Unwrap<A>,
  checks: ArgChecks<A>,
): void {
  assertNoProblems(component, argProblems(args as A, checks));
}

/** Arguments that may hold Outputs, checked (see {@link checkedArgs}). */
export interface CheckedArgs<A> {
  /**
   * The arguments, with every field not known yet replaced by an Output checked by that field's rule
   * once it resolves: objects built from them refuse a bad value at the leaves it feeds.
   */
  fields: A;
  /**
   * The whole arguments, once every rule (rules across fields included) passed. Built from `fields`,
   * so a bad field fails both with one error, which the SDK reports once. Hold a resource's
   * registration on it (`registeredAfter`) so nothing of a refused component reaches the cluster.
   */
  all: pulumi.Output<pulumi.Unwrap<A>>;
}

/**
 * Checks arguments whose known values {@link checkKnownArgs} already passed: each field not known
 * yet when it resolves, and all of them together.
 */
export function checkedArgs<A extends object>(
  component: string,
  args: A,
  checks: ArgChecks<A>,
): CheckedArgs<A> {
  const fields = checkedFields(component, args, checks);
  const all = pulumi.output(fields).apply((resolved) => {
    checkResolvedArgs(component, resolved as pulumi.Unwrap<A>, checks);
    return resolved as pulumi.Unwrap<A>;
  });
  return { fields, all };
}

function checkedFields<A extends object>(component: string, args: A, checks: ArgChecks<A>): A {
  const rules = checks.rules as Record<string, Rule<unknown> | undefined>;
  return Object.fromEntries(
    Object.entries(args).map(([key, value]) => {
      const rule = rules[key];
      if (rule === undefined || !containsUnknown(value)) return [key, value];
      const checked = pulumi.output(value).apply((resolved: unknown) => {
        if (resolved !== undefined && resolved !== null) assertNoProblems(component, rule(resolved, key));
        return resolved;
      });
      return [key, checked];
    }),
  ) as A;
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

/** A Kubernetes resource quantity, e.g. `500m`, `2`, `4Gi`, `1.5`. */
export const quantity: Rule<string> = (value, field) =>
  typeof value === "string" &&
  /^([+]?[0-9.]+)([eE][-+]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$/.test(value) &&
  /\d/.test(value)
    ? []
    : problem(field, value, "a Kubernetes quantity such as '500m', '2', '512Mi' or '4Gi'");

/** Directories a build volume must never replace. */
const SYSTEM_DIRECTORIES = [
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

/** Checks the listed fields of an object with their rules (undefined fields are skipped). */
export function objectOf<T extends object>(
  rules: Partial<{ [K in keyof T]: Rule<NonNullable<T[K]>> }>,
): Rule<T> {
  return (value, field) => {
    if (value === null || typeof value !== "object") return problem(field, value, "an object");
    return (Object.entries(rules) as [string, Rule<unknown>][]).flatMap(([key, rule]) => {
      const item = (value as Record<string, unknown>)[key];
      return item === undefined || item === null ? [] : rule(item, `${field}.${key}`);
    });
  };
}

/** A cross-field rule refusing missing required fields (programs in other languages can omit them). */
export function requiredFields<A>(what: { [K in keyof A]?: string }): CrossRule<A> {
  return {
    reads: [],
    check: (args) =>
      (Object.entries(what) as [string, string][]).flatMap(([field, allowed]) =>
        required(field, (args as Record<string, unknown>)[field], allowed),
      ),
  };
}

/** Requires a value to be present. */
export function required(field: string, value: unknown, what: string): Problem[] {
  return value === undefined || value === null || value === "" ? problem(field, value, what) : [];
}
