/**
 * How components run their rules. One entry point, {@link checkArgs}, called once at the top of a
 * constructor: it checks every argument whose value is already known (so a bad literal stops the
 * preview before any resource, even the component, is registered), and hands back the arguments
 * with the rest checked once their `Input`s resolve.
 */
import * as pulumi from "@pulumi/pulumi";
import { Problem, Rule, assertNoProblems } from "./errors";
import { PlainFields, plainProblems } from "./plain";
import { required } from "./rules";
import { containsUnknown, isUnknown } from "../values/inputs";

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

/**
 * Everything checked about an arguments object: a rule for every argument (so the rules are also
 * the list of arguments, and a name not in it is refused) and rules across fields.
 */
export interface ArgChecks<A> {
  rules: ArgRules<A>;
  cross?: readonly CrossRule<A>[];
  /**
   * Where the arguments must be plain values (they decide which resources exist and their shape):
   * the component's entry of `PLAIN_INPUTS`, from the schema; an Output or Promise there is refused
   * by its path. `except`: fields the component also takes whole as an Output (from another language
   * a plain object arrives as one when a field in it is secret). Unset: any field may be an Output.
   */
  plain?: { inputs: PlainFields; except?: readonly (keyof A)[] };
  /**
   * Problems in what is known now of arguments that are Outputs, which the rules above skip: e.g.
   * the fields recorded for another component's Output (see `recordFields`). Run when they pass.
   */
  knownParts?: (args: A) => Problem[];
}

/** Checks with their list of rules across fields spelt out, for other checks to extend. */
export type ExtensibleChecks<A> = ArgChecks<A> & { cross: readonly CrossRule<A>[] };

/** What a cross-field rule sees, at construction, in place of a value not known yet. */
export const NOT_YET_KNOWN: { readonly notYetKnown: true } = Object.freeze({ notYetKnown: true });

/** The arguments with every value not known yet replaced by {@link NOT_YET_KNOWN}. */
function knownView(value: unknown): unknown {
  if (isUnknown(value)) return NOT_YET_KNOWN;
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
  const names = Object.keys(checks.rules);
  // A misspelt or removed argument (from JavaScript or another language) would otherwise do nothing.
  const problems: Problem[] = Object.keys(fields)
    .filter((key) => !names.includes(key) && fields[key] !== undefined)
    .map((key) => ({
      field: key,
      value: fields[key],
      allowed: `no such argument; the arguments are ${names.join(", ")}`,
    }));
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

/** The places that must be plain (see {@link ArgChecks.plain}) and are not. */
function notPlainProblems<A extends object>(args: A, checks: ArgChecks<A>): Problem[] {
  if (checks.plain === undefined) return [];
  const except: readonly PropertyKey[] = checks.plain.except ?? [];
  const inputs = Object.fromEntries(
    Object.entries(checks.plain.inputs).filter(([field]) => !except.includes(field)),
  );
  return plainProblems(args as Record<string, unknown>, inputs);
}

/**
 * The problems of the values known now: a place that must be plain and is not, else what the
 * rules find (an Output is left for when it resolves).
 */
export function knownProblems<A extends object>(args: A, checks: ArgChecks<A>): Problem[] {
  const notPlain = notPlainProblems(args, checks);
  if (notPlain.length > 0) return notPlain;
  const problems = argProblems(args, checks, true);
  return problems.length > 0 || checks.knownParts === undefined ? problems : checks.knownParts(args);
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
 * A component's checks, its one entry point; call it first in the constructor, before `super`.
 * Throws an `InvalidArgumentsError` naming every bad known value (and every place that must be
 * plain and is not). Returns the arguments checked: a field not known yet is checked when it
 * resolves, at the leaves it feeds, and all of them together (rules across fields included) in `all`.
 * Both are built when first read, so a component that reads neither creates no Output for them.
 */
export function checkArgs<A extends object>(
  component: string,
  args: A,
  checks: ArgChecks<A>,
): CheckedArgs<A> {
  assertNoProblems(component, knownProblems(args, checks));
  let built: CheckedArgs<A> | undefined;
  const build = (): CheckedArgs<A> => (built ??= checkedArgs(component, args, checks));
  return {
    get fields() {
      return build().fields;
    },
    get all() {
      return build().all;
    },
  };
}

/** Checks arguments whose known values already passed: each field not known yet, and all together. */
function checkedArgs<A extends object>(component: string, args: A, checks: ArgChecks<A>): CheckedArgs<A> {
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
