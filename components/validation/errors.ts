/**
 * How a refusal reads: each problem names the field, the value and what is allowed, and the error
 * is one the CLI prints as a message, not a stack trace.
 */
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
    // The CLI prints only a RunError's message, except when it rejects after the program has
    // finished (as one thrown in an apply often does): then its first handler prints `stack`.
    this.stack = message;
  }
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
