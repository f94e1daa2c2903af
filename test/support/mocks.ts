/**
 * Pulumi mocks that record every resource the program registers, so tests can assert exact inputs.
 * Import this module BEFORE any module that creates resources: setMocks must run first.
 */
import * as pulumi from "@pulumi/pulumi";
import { autoNamedMetadata } from "./autoName";
import { collectingRejections } from "./rejections";
import { emulateTls } from "./tlsEmulator";

export { settle } from "./rejections";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
  /** What the mock "provider" returned (filled in once the resource is created). */
  state?: Record<string, unknown>;
}

export const recorded: RecordedResource[] = [];

/** Extra state a test wants the mock "provider" to return for a resource type. */
export type StateFactory = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;
const stateFactories = new Map<string, StateFactory>();

/** Registers fake provider outputs for a resource type (e.g. a Command's stdout). */
export function onCreate(type: string, factory: StateFactory): void {
  stateFactories.set(type, factory);
}

/** The fake kubeconfig the mocked kind create command prints. */
export const FAKE_KUBECONFIG =
  "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {client-key-data: FAKEKEY}}]\n";

onCreate("command:local:Command", () => ({ stdout: FAKE_KUBECONFIG, stderr: "" }));

/** What the demo's build waiter prints for a build that succeeded (see stacks/buildResult.ts). */
export const SUCCEEDED_BUILD_REPORT =
  "result=succeeded\nreason=\npod=build-abc123-x1\ndetail=\nlog:\n+build | --> done\n";

/** The demo's Commands under mocks: the kind command prints the kubeconfig, the waiter `report`. */
export function mockDemoCommands(report: string): void {
  onCreate("command:local:Command", (args) => ({
    stdout: args.name === "build-result" ? report : FAKE_KUBECONFIG,
    stderr: "",
  }));
}

pulumi.runtime.setMocks(
  {
    async newResource(args) {
      const record: RecordedResource = {
        type: args.type,
        name: args.name,
        inputs: args.inputs,
        provider: args.provider,
      };
      recorded.push(record);
      // tls resources get real keys and certificates, so certificate checks run on real X.509.
      const extra = stateFactories.get(args.type)?.(args) ?? (await emulateTls(args.type, args.inputs));
      const state: Record<string, unknown> = { ...args.inputs, ...extra };
      record.state = extra;
      // Kubernetes auto-naming: a Job without a name gets one derived from the resource name.
      const metadata = autoNamedMetadata(args);
      if (metadata) state.metadata = metadata;
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      return args.inputs;
    },
  },
  "earthly-kubernetes",
  "test",
  false,
);

/** Resolves an Output to its value (tests only). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Recorded resources of one type. */
export function ofType(type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

/** Clears the record between tests. */
export function resetRecord(): void {
  recorded.length = 0;
}

/** An Output's settled value, rejection included (`valueOf` never settles for a failed Output). */
export function settledValue<T>(output: pulumi.Output<T>): Promise<T> {
  // `promise()` is the Output's internal promise: not part of the typed API, but it is what rejects.
  return (output as unknown as { promise(): Promise<T> }).promise();
}

/**
 * Builds a component whose arguments are refused inside an `apply`, and returns the rejection of
 * the output `build` returns together with every unhandled rejection the refusal caused.
 */
export async function refusedInApply(
  build: () => pulumi.Output<unknown>,
): Promise<{ error: unknown; rejections: unknown[] }> {
  let error: unknown;
  const rejections = await collectingRejections(async () => {
    error = await settledValue(build()).then(
      () => undefined,
      (e: unknown) => e,
    );
  });
  return { error, rejections };
}
