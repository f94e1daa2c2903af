/**
 * Pulumi mocks that record every resource the program registers, so tests can assert exact inputs.
 * Import this module BEFORE any module that creates resources: setMocks must run first.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
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

// ---------------------------------------------------------------------------------------------
// Resource options are not part of MockResourceArgs; the engine receives them in the
// RegisterResource request, so the ones tests read are recorded here from the mock monitor.
// ---------------------------------------------------------------------------------------------

/** The options a resource was registered with. */
export interface Registration {
  type: string;
  name: string;
  parent: string;
  additionalSecretOutputs: string[];
  deleteBeforeReplace: boolean;
  deleteBeforeReplaceDefined: boolean;
  /** Custom timeouts (empty strings: none). */
  customTimeouts: { create: string; update: string; delete: string };
}

/** Every registration since the last {@link resetRegistrations}, in order. */
export const registrations: Registration[] = [];

{
  type Callback = (error: unknown, response: unknown) => void;
  const monitor = pulumi.runtime.getMonitor() as unknown as
    { registerResource(request: RegisterResourceRequest, callback: Callback): unknown } | undefined;
  if (!monitor) throw new Error("the mocks must have installed a monitor");
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    const timeouts = request.getCustomtimeouts();
    registrations.push({
      type: request.getType(),
      name: request.getName(),
      parent: request.getParent(),
      additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
      deleteBeforeReplace: request.getDeletebeforereplace(),
      deleteBeforeReplaceDefined: request.getDeletebeforereplacedefined(),
      customTimeouts: {
        create: timeouts?.getCreate() ?? "",
        update: timeouts?.getUpdate() ?? "",
        delete: timeouts?.getDelete() ?? "",
      },
    });
    return original(request, callback);
  };
}

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

/** Clears the registrations (kept across {@link resetRecord}: a test reads a Job's timeouts after others were built). */
export function resetRegistrations(): void {
  registrations.length = 0;
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
