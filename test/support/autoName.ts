/**
 * Kubernetes auto-naming as the mocks play it: the provider names an object that names none after its
 * resource (with a suffix), already at preview. Free of mocks, for every test's own mocks.
 */
import * as pulumi from "@pulumi/pulumi";

/** The metadata a Kubernetes object gets back on creation, or undefined when nothing is named. */
export function autoNamedMetadata(
  args: pulumi.runtime.MockResourceArgs,
): Record<string, unknown> | undefined {
  if (!args.type.startsWith("kubernetes:") || args.type.startsWith("kubernetes:index")) return undefined;
  const metadata = (args.inputs.metadata ?? {}) as Record<string, unknown>;
  if (pulumi.isUnknown(metadata)) return undefined;
  return { ...metadata, name: metadata.name ?? `${args.name}-abc123` };
}
