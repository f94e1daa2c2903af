/**
 * The secrets audit: walks every recorded resource input and every stack output, and reports each
 * place where key material or a kubeconfig appears outside a Pulumi secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource } from "./mocks";

/** What counts as sensitive: PEM private keys, and kubeconfig client keys or tokens. */
export const SENSITIVE = /PRIVATE KEY|client-key-data|\btoken:/;

/** Paths of sensitive strings in a recorded input value that are not inside an RPC secret. */
export function plainSensitivePaths(value: unknown, path: string): string[] {
  if (pulumi.runtime.isRpcSecret(value)) return [];
  if (typeof value === "string") return SENSITIVE.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainSensitivePaths(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => plainSensitivePaths(v, `${path}.${k}`));
  }
  return [];
}

/** Paths of sensitive strings that are inside a secret (what the audit found protected). */
export function secretSensitivePaths(value: unknown, path: string): string[] {
  if (pulumi.runtime.isRpcSecret(value)) {
    return SENSITIVE.test(JSON.stringify(pulumi.runtime.unwrapRpcSecret(value)) ?? "") ? [path] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => secretSensitivePaths(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => secretSensitivePaths(v, `${path}.${k}`));
  }
  return [];
}

/**
 * Every recorded input holding key material in plain text (`leaks`), and every one holding it
 * inside a secret (`protected`), as `type::name.path`.
 */
export function auditInputs(resources: readonly RecordedResource[]): {
  checked: number;
  leaks: string[];
  protected: string[];
} {
  return {
    checked: resources.length,
    leaks: resources.flatMap((r) => plainSensitivePaths(r.inputs, `${r.type}::${r.name}`)),
    protected: resources.flatMap((r) => secretSensitivePaths(r.inputs, `${r.type}::${r.name}`)),
  };
}

/** Outputs whose value is sensitive but which are not secret. */
export async function auditOutputs(outputs: {
  [name: string]: pulumi.Output<unknown>;
}): Promise<{ sensitive: string[]; leaks: string[] }> {
  const sensitive: string[] = [];
  const leaks: string[] = [];
  for (const [name, output] of Object.entries(outputs)) {
    const value = await new Promise<unknown>((resolve) => output.apply((v) => resolve(v)));
    if (!SENSITIVE.test(JSON.stringify(value) ?? "")) continue;
    sensitive.push(name);
    if (!(await pulumi.isSecret(output))) leaks.push(name);
  }
  return { sensitive, leaks };
}
