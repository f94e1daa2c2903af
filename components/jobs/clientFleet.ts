/**
 * The fleet a remote client builds on: its `fleet`, or among its `fleets` (one per architecture)
 * the one on the architecture of its `platform`; and the host it dials there.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  CONNECTION_FIELDS,
  FleetConnection,
  FleetConnectionInputs,
  connectionFieldsOf,
  recordedConnectionFields,
} from "../fleet/connection";
import { buildkitHostUrl } from "../fleet/names";
import { pickInstance } from "../fleet/pinning";
import { Problem } from "../validation/errors";
import { CrossRule } from "../validation/checks";
import { containsUnknown, lift } from "../values/inputs";
import { platformArchitecture } from "./platform";

/** What choosing a fleet for a platform reads of each fleet's connection. */
export type FleetIdentity = Pick<FleetConnection, "fleetName" | "architecture">;

/**
 * Which of `fleets` builds for the platform natively: the index of the one on its architecture, and
 * the problems that keep a choice from being made (a fleet with no architecture, two on the same
 * one, none on the platform's). The index is 0 when there are problems.
 */
export function fleetChoice(
  fleets: readonly FleetIdentity[],
  platform: string,
): { index: number; problems: Problem[] } {
  if (fleets.length === 0) {
    return { index: 0, problems: [{ field: "fleets", value: [], allowed: "one fleet connection or more" }] };
  }
  const problems: Problem[] = [];
  fleets.forEach((fleet, i) => {
    const at = `fleets[${i}].architecture`;
    if (fleet.architecture === undefined) {
      problems.push({
        field: at,
        value: undefined,
        allowed: `an architecture: the connection of a BuildkitdFleet with scheduling.architecture (fleet ${fleet.fleetName} may run on any)`,
      });
      return;
    }
    const first = fleets.findIndex((other) => other.architecture === fleet.architecture);
    if (first < i) {
      problems.push({
        field: at,
        value: fleet.architecture,
        allowed: `an architecture no other of fleets has: fleets[${first}] (fleet ${fleets[first].fleetName}) runs on it`,
      });
    }
  });
  if (problems.length > 0) return { index: 0, problems };
  const arch = platformArchitecture(platform);
  const index = fleets.findIndex((fleet) => fleet.architecture === arch);
  if (index >= 0) return { index, problems: [] };
  const offered = fleets.map((fleet) => `linux/${fleet.architecture} (fleet ${fleet.fleetName})`).join(", ");
  return {
    index: 0,
    problems: [
      {
        field: "platform",
        value: platform,
        allowed: `a platform one of fleets builds natively: ${offered}`,
      },
    ],
  };
}

/** A single fleet pinned to an architecture builds only for it (no emulation). */
export function fleetPlatformProblems(fleet: FleetIdentity, platform: string | undefined): Problem[] {
  if (platform === undefined || fleet.architecture === undefined) return [];
  return platformArchitecture(platform) === fleet.architecture
    ? []
    : [
        {
          field: "platform",
          value: platform,
          allowed:
            `a platform on ${fleet.architecture}: fleet ${fleet.fleetName} runs on ${fleet.architecture} nodes and builds ` +
            "natively (give fleets, a fleet per architecture, or a fleet without scheduling.architecture on nodes that emulate)",
        },
      ];
}

/** The arguments of a client that say which fleet it builds on. */
export interface ClientFleetArgs {
  fleet?: pulumi.Input<FleetConnection>;
  fleets?: pulumi.Input<FleetConnection>[];
  platform?: pulumi.Input<string>;
  earthlyVersion?: string;
}

/** The chosen fleet of resolved arguments, and the field that gave it; undefined while a rule fails. */
function chosenFleet(
  args: pulumi.Unwrap<ClientFleetArgs>,
): { fleet: FleetConnection; field: string } | undefined {
  if (args.fleet !== undefined)
    return args.fleets === undefined ? { fleet: args.fleet, field: "fleet" } : undefined;
  if (args.fleets === undefined || args.platform === undefined) return undefined;
  const { index, problems } = fleetChoice(args.fleets, args.platform);
  return problems.length === 0 ? { fleet: args.fleets[index], field: `fleets[${index}]` } : undefined;
}

/** What `fleets` and `platform` must be for a choice (see {@link fleetChoice}). */
function fleetsProblems(
  fleets: readonly FleetIdentity[] | undefined,
  platform: string | undefined,
): Problem[] {
  if (fleets === undefined) return [];
  if (platform === undefined) {
    return [
      {
        field: "platform",
        value: undefined,
        allowed: "a platform, e.g. linux/arm64: it chooses the fleet of its architecture among fleets",
      },
    ];
  }
  return fleetChoice(fleets, platform).problems;
}

/** The rules across a client's fleet arguments: one of `fleet` and `fleets`, and the chosen one's fit. */
export function clientFleetRules<A extends ClientFleetArgs>(): CrossRule<A>[] {
  return [
    {
      // Runs at once, Outputs or not: whether each is given is known.
      reads: [],
      check: ({ fleet, fleets }) =>
        fleet === undefined && fleets === undefined
          ? [
              {
                field: "fleet",
                value: undefined,
                allowed:
                  "a fleet connection, e.g. a BuildkitdFleet's connection output (or fleets, one per architecture, with platform)",
              },
            ]
          : fleet !== undefined && fleets !== undefined
            ? [{ field: "fleets", value: "(given)", allowed: "not together with fleet: give one of them" }]
            : [],
    },
    {
      reads: ["fleets", "platform"],
      check: ({ fleets, platform }) => fleetsProblems(fleets as FleetIdentity[] | undefined, platform),
    },
    {
      reads: ["fleet", "fleets", "platform"],
      check: ({ fleet, fleets, platform }) =>
        fleet && fleets === undefined ? fleetPlatformProblems(fleet as FleetIdentity, platform) : [],
    },
    {
      // The chosen fleet's fit: the client's version, and a host for every instance (for pinning).
      reads: ["earthlyVersion", "fleet", "fleets", "platform"],
      check: (args) => {
        const chosen = chosenFleet(args);
        if (chosen === undefined) return [];
        const { fleet, field } = chosen;
        return [
          ...(args.earthlyVersion !== undefined && args.earthlyVersion !== fleet.earthlyVersion
            ? [
                {
                  field: "earthlyVersion",
                  value: args.earthlyVersion,
                  allowed: `the fleet's version ${fleet.earthlyVersion}: Earthly supports a daemon only with the client of the same version`,
                },
              ]
            : []),
          ...(fleet.instanceNames.length !== fleet.instanceHosts.length
            ? [{ field, value: fleet.instanceNames, allowed: "one host per instance name" }]
            : []),
        ];
      },
    },
  ];
}

/**
 * The fleet rules on what is known now of fleets given as Outputs: a `BuildkitdFleet`'s connection
 * is an Output known only once the fleet is ready, but its name and architecture are known at
 * once, so a wrong platform is refused at preview. Empty when the plain-value rules already ran.
 */
export function knownFleetChoiceProblems(args: ClientFleetArgs): Problem[] {
  if (containsUnknown(args.platform)) return [];
  const platform = args.platform as string | undefined;
  const identity = (fleet: pulumi.Input<FleetConnection>): FleetIdentity | undefined => {
    const fields = recordedConnectionFields(fleet);
    if (fields === undefined) return undefined;
    const { fleetName, architecture } = fields;
    return containsUnknown([fleetName, architecture])
      ? undefined
      : { fleetName: fleetName as string, architecture: architecture as string | undefined };
  };
  if (args.fleets !== undefined && args.fleet === undefined && containsUnknown(args.fleets)) {
    const identities = args.fleets.map(identity);
    return identities.every((i) => i !== undefined)
      ? fleetsProblems(identities as FleetIdentity[], platform)
      : [];
  }
  if (args.fleet !== undefined && args.fleets === undefined && containsUnknown(args.fleet)) {
    const fleet = identity(args.fleet);
    return fleet ? fleetPlatformProblems(fleet, platform) : [];
  }
  return [];
}

/**
 * The chosen fleet's connection, field by field (see {@link connectionFieldsOf}): known at preview as
 * far as the fleets' names, architectures and the platform are.
 */
export function clientFleetFields(args: ClientFleetArgs): FleetConnectionInputs {
  if (args.fleets === undefined) return connectionFieldsOf(args.fleet as pulumi.Input<FleetConnection>);
  const options = args.fleets.map(connectionFieldsOf);
  const index = lift(
    { platform: args.platform, archs: options.map((o) => o.architecture) },
    ({ platform, archs }) => Math.max(0, archs.indexOf(platformArchitecture(platform ?? ""))),
  );
  if (typeof index === "number") return options[index];
  // Not known which: a field all fleets give the same known value (say, TLS on) is that value,
  // so the objects it shapes still show at preview; the others wait for the choice.
  return Object.fromEntries(
    CONNECTION_FIELDS.map((key) => {
      const values = options.map((o) => o[key]);
      const same =
        !containsUnknown(values) && values.every((v) => JSON.stringify(v) === JSON.stringify(values[0]));
      return [key, same ? values[0] : pulumi.all([index, pulumi.all(values)]).apply(([i, all]) => all[i])];
    }),
  ) as FleetConnectionInputs;
}

/** The host a client dials: a pinned instance for a cache key, else the ClientIP-affine Service. */
export function clientBuildkitHost(fleet: FleetConnection, cacheKey: string | undefined): string {
  if (cacheKey === undefined) return fleet.buildkitHost;
  const instance = pickInstance(cacheKey, fleet.instanceNames);
  return buildkitHostUrl(fleet.instanceHosts[fleet.instanceNames.indexOf(instance)]);
}

/**
 * The host a client dials, from a connection's fields and the cache key: known as soon as they are
 * (see {@link clientBuildkitHost}).
 */
export function clientHostOf(
  fleet: FleetConnectionInputs,
  cacheKey: pulumi.Input<string | undefined>,
): pulumi.Input<string> {
  return lift(
    {
      buildkitHost: fleet.buildkitHost,
      instanceNames: fleet.instanceNames,
      instanceHosts: fleet.instanceHosts,
      cacheKey,
    },
    ({ cacheKey: key, ...connection }) => clientBuildkitHost(connection as FleetConnection, key),
  );
}
