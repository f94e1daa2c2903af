/**
 * Where an argument must be a plain value. The schema marks such inputs `plain` (their types say so
 * too: no `pulumi.Input` around them), because they decide which resources exist and their shape.
 * From TypeScript the compiler enforces it; from JavaScript, or a cast, an Output can still arrive
 * there, and would otherwise render a broken object instead of a refusal naming the field.
 */
import { Problem } from "./errors";
import { isUnknown } from "../values/inputs";

/**
 * A place that must hold a plain value, and the places inside it that must too: the fields of an
 * object, the members of a list, the values of a map. A place that may hold an Output is absent.
 */
export interface PlainNode {
  readonly fields?: PlainFields;
  readonly items?: PlainNode;
  readonly values?: PlainNode;
}

/** The fields of an object that must be plain, by name. */
export type PlainFields = Readonly<Record<string, PlainNode>>;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function nodeProblems(value: unknown, node: PlainNode, path: string): Problem[] {
  if (value === undefined || value === null) return [];
  if (isUnknown(value)) {
    return [
      {
        field: path,
        value: "an Output or Promise",
        allowed: "a plain value, known when the component is created",
      },
    ];
  }
  const problems: Problem[] = [];
  if (node.fields !== undefined && isObject(value))
    problems.push(...plainProblems(value, node.fields, `${path}.`));
  const { items, values } = node;
  if (items !== undefined && Array.isArray(value)) {
    value.forEach((item, index) => problems.push(...nodeProblems(item, items, `${path}[${index}]`)));
  }
  if (values !== undefined && isObject(value)) {
    for (const [key, member] of Object.entries(value)) {
      problems.push(...nodeProblems(member, values, `${path}[${JSON.stringify(key)}]`));
    }
  }
  return problems;
}

/**
 * Every place of `fields` in `value` that holds an Output or Promise, named by its path (`prefix`
 * first), e.g. `scratchVolume.emptyDir`, `buildSecrets[1].name`, `labels["team"]`.
 */
export function plainProblems(value: Record<string, unknown>, fields: PlainFields, prefix = ""): Problem[] {
  return Object.entries(fields).flatMap(([name, node]) =>
    nodeProblems(value[name], node, `${prefix}${name}`),
  );
}
