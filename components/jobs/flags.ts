/**
 * The rules for a Job's `flags` and `target`: what Earthly receives as arguments.
 *
 * The container's `args` are stored in the Job's pod spec (readable by whoever may read Jobs, and
 * in the Pulumi state) and are in every process list on the node, so no flag may carry a credential
 * there: `--secret NAME=value` and `--git-password` are refused (`buildSecrets` and
 * `gitCredentials` take them from Secrets). Flags that replace what the components mount are
 * refused too: `--config` (Earthly's config file is mounted from `earthlyConfig`) and
 * `--ssh-auth-sock` (the agent is the one `gitCredentials.ssh` starts). Earthly reads its flags
 * with Go's `flag` syntax, through urfave/cli: one dash or two, the value after `=` or in the next
 * argument.
 *
 * Kubernetes expands `$(VAR)` in `args` to a variable of the container (`$$` escapes it), so a flag
 * or target holding `$(` could read a variable such as a build secret's into the arguments: it is
 * refused rather than escaped, since an Earthly flag or target never needs it.
 */
import { Problem, Rule } from "../validation/errors";
import { EARTHLY_FLAG_ENV } from "./earthlyFlagEnv";
import { printableText } from "../validation/rules";
import { ENV_NAMES } from "../pods/envNames";

/** Why `$(` is refused in arguments. */
const NO_EXPANSION =
  "no '$(': Kubernetes expands $(VAR) in a container's arguments to the value of the variable VAR";

/** Flags refused whatever their value, with what to use instead. */
const REFUSED_FLAGS: { [name: string]: string } = {
  "git-password": "a flag other than --git-password: give Git tokens by Secret with gitCredentials.https",
  config: "a flag other than --config: Earthly's config file is mounted from earthlyConfig",
  "ssh-auth-sock": "a flag other than --ssh-auth-sock: the SSH agent is the one gitCredentials.ssh starts",
  "remote-cache": "a flag other than --remote-cache: give the cache image as remoteCache.image",
  "max-remote-cache": "a flag other than --max-remote-cache: give it as remoteCache.max",
  platform: "a flag other than --platform: give the platform as platform",
};

/** The flag's name (without its dashes) and its value after `=`, for an argument that is a flag. */
function parseFlag(arg: string): { name: string; inline?: string } | undefined {
  const match = /^--?([^-=][^=]*)(?:=(.*))?$/s.exec(arg);
  return match ? { name: match[1], inline: match[2] } : undefined;
}

/** The rule for a Job's `flags`: printable arguments, none carrying a value the pod spec would hold. */
export const earthlyFlagsRule: Rule<string[]> = (value, field) => {
  if (!Array.isArray(value)) return [{ field, value, allowed: "a list of strings" }];
  return value.flatMap((arg, i): Problem[] => {
    const at = `${field}[${i}]`;
    const text = printableText(arg, at);
    if (text.length > 0) return text;
    if (arg.includes("$(")) return [{ field: at, value: arg, allowed: NO_EXPANSION }];
    const flag = parseFlag(arg);
    if (flag === undefined) return [];
    if (flag.name in REFUSED_FLAGS) {
      return [
        {
          field: at,
          value: flag.inline === undefined ? arg : `${arg.slice(0, arg.indexOf("="))}=(given)`,
          allowed: REFUSED_FLAGS[flag.name],
        },
      ];
    }
    if (flag.name === "secret" || flag.name === "s") {
      const inline = flag.inline;
      const next = value[i + 1];
      const secretValue = inline ?? (typeof next === "string" ? next : "");
      if (secretValue.includes("=")) {
        const shown = `${secretValue.slice(0, secretValue.indexOf("="))}=(given)`;
        return [
          {
            field: inline === undefined ? `${field}[${i + 1}]` : at,
            value: inline === undefined ? shown : `${arg.slice(0, arg.indexOf("="))}=${shown}`,
            allowed:
              "a secret by name only (--secret NAME): a value here is in the pod spec and every process list; use buildSecrets",
          },
        ];
      }
    }
    return [];
  });
};

/**
 * The rule for a Job's `target`: printable, without `$(`, and not starting with `-`: Earthly would
 * read it as a flag, so `--secret=...` or `--config=...` refused in `flags` would get through here.
 */
export const earthlyTargetRule: Rule<string> = (value, field) => {
  const text = printableText(value, field);
  if (text.length > 0) return text;
  if (value.startsWith("-")) {
    return [
      {
        field,
        value,
        allowed:
          "a target, not a flag: no leading '-' (Earthly would read it as a flag; give flags in flags)",
      },
    ];
  }
  return value.includes("$(") ? [{ field, value, allowed: NO_EXPANSION }] : [];
};

/** Go's words for a false boolean (urfave/cli parses `--flag=VALUE` with strconv.ParseBool). */
const FALSE_WORDS = ["0", "f", "F", "false", "FALSE", "False"];

/** The index of the last argument that sets boolean flag `name` to true, or -1. */
export function lastTrueFlag(flags: readonly string[], name: string): number {
  let found = -1;
  flags.forEach((arg, i) => {
    const flag = parseFlag(arg);
    if (flag?.name === name) found = flag.inline !== undefined && FALSE_WORDS.includes(flag.inline) ? -1 : i;
  });
  return found;
}

/**
 * What `artifacts` adds to the flags: `--output` when `--ci` is given without it. `--ci` implies
 * `--no-output`, which makes `SAVE ARTIFACT ... AS LOCAL` write nothing ("Local Output Summary
 * (disabled)") while the build succeeds; `--output` is Earthly's "output even in CI mode".
 */
export function artifactsOutputFlags(flags: readonly string[] | undefined, artifacts: boolean): string[] {
  if (!artifacts || flags === undefined) return [];
  return lastTrueFlag(flags, "ci") >= 0 && lastTrueFlag(flags, "output") < 0 ? ["--output"] : [];
}

/** The flags that set Earthly's output mode. */
const OUTPUT_MODE_FLAGS = ["ci", "no-output", "output", "image", "artifact"];

/**
 * What the remote client adds to the flags. With `artifacts`, what they add (see
 * {@link artifactsOutputFlags}). Without, `--no-output`, unless the flags set the output mode
 * themselves: the client has no Docker to load an image into and keeps no file once its pod is
 * gone, so outputs on would only make a `SAVE IMAGE` with a name fail at the export; images leave
 * by `--push`, which `--no-output` does not stop.
 */
export function remoteOutputFlags(flags: readonly string[] | undefined, artifacts: boolean): string[] {
  if (artifacts) return artifactsOutputFlags(flags, true);
  const setsMode = (flags ?? []).some((arg) => OUTPUT_MODE_FLAGS.includes(parseFlag(arg)?.name ?? ""));
  return setsMode ? [] : ["--no-output"];
}

/**
 * Whether Earthly, given these arguments (the flags as rendered), exports `SAVE IMAGE` images to
 * the client's Docker (`docker load`, or `docker pull` from its local registry): when outputs are
 * on, that is without `--ci` or `--no-output`, or with `--output` or `--image` (never with
 * `--artifact`, which outputs one artifact). Earthly v0.8.16
 * decides it this way (cmd/earthly/subcmd/build_cmd.go: `--ci` sets NoOutput unless `--output`,
 * `--artifact` or `--image`; builder/builder.go exports an image with a name unless NoOutput);
 * `--push` does not turn it off.
 */
export function exportsImagesLocally(flags: readonly string[]): boolean {
  // `--artifact` outputs the one artifact it names, never an image.
  if (lastTrueFlag(flags, "artifact") >= 0) return false;
  if (lastTrueFlag(flags, "output") >= 0 || lastTrueFlag(flags, "image") >= 0) return true;
  return lastTrueFlag(flags, "ci") < 0 && lastTrueFlag(flags, "no-output") < 0;
}

/**
 * The preview warning for a remote client whose flags leave image output on: it has no Docker, so a
 * `SAVE IMAGE` with a name fails there, late, at the export (EarthBuild/earthbuild#863). A warning,
 * not a refusal: a target without `SAVE IMAGE` builds fine.
 */
export function remoteImageOutputWarning(component: string, artifacts: boolean): string {
  const why = artifacts
    ? "artifacts need Earthly's outputs on"
    : "the flags turn Earthly's outputs on (--output, --image, or --ci=false without --no-output)";
  return (
    `${component}: ${why}, so a SAVE IMAGE with a name is exported to the client's Docker ` +
    "('docker load' or 'docker pull'), and the remote client has none: that build fails at the export. " +
    "Ship images from the fleet with SAVE IMAGE --push and the --push flag; " +
    "build images and artifacts in separate Jobs."
  );
}

/** The variables that do what `--ci`, `--output` and `--no-output` do: refused in `env`. */
export const OUTPUT_MODE_ENV: { [name: string]: string } = Object.fromEntries(
  ENV_NAMES.filter((e) => e.refusal === "output-mode").map((e) => [e.name, e.owner]),
);

/**
 * `--no-output` with `artifacts` would save nothing to the claim, silently; and the variables that
 * switch output modes are refused in `env`, so that `flags` alone say whether outputs are written.
 */
export function outputModeConflicts(args: {
  flags?: readonly string[];
  artifacts?: unknown;
  env?: readonly { name: string }[];
}): Problem[] {
  const problems: Problem[] = [];
  const noOutput = lastTrueFlag(args.flags ?? [], "no-output");
  if (args.artifacts !== undefined && noOutput >= 0) {
    problems.push({
      field: `flags[${noOutput}]`,
      value: (args.flags ?? [])[noOutput],
      allowed:
        "no --no-output together with artifacts: Earthly would write nothing to the artifacts claim (drop --no-output, or artifacts)",
    });
  }
  for (const e of args.env ?? []) {
    if (e.name in OUTPUT_MODE_ENV) {
      problems.push({
        field: "env.name",
        value: e.name,
        allowed: `not ${e.name}: give ${OUTPUT_MODE_ENV[e.name]} in flags, which decide whether artifacts are written`,
      });
    }
  }
  return problems;
}

/** What to use instead of a flag's variable, where a typed input owns the flag. */
const FLAG_OWNERS: { [flag: string]: string } = {
  "--secret": "buildSecrets (values from Secrets)",
  "--secret-file": "buildSecrets (values from Secrets)",
  "--git-password": "gitCredentials.https (from a Secret)",
  "--git-username": "gitCredentials.https (from a Secret)",
  "--buildkit-host": "the fleet (EarthlyRemoteJob sets it)",
  "--config": "earthlyConfig (the mounted config file)",
  "--ssh-auth-sock": "gitCredentials.ssh (the agent it starts)",
  "--platform": "platform",
  "--remote-cache": "remoteCache.image",
  "--max-remote-cache": "remoteCache.max",
};

/**
 * Variables Earthly reads as flags, refused in `env` (derived from Earthly's flag definitions, see
 * {@link EARTHLY_FLAG_ENV}): each is a way around the rules on `flags`, or around a typed input
 * (`EARTHLY_SECRETS` and `GIT_PASSWORD` would hold secrets in plain text in the spec and the state).
 * Names already refused with a message of their own (`skip`) are left to it.
 */
export function flagEnvConflicts(
  env: readonly { name: string }[] | undefined,
  skip: readonly string[],
): Problem[] {
  return (env ?? [])
    .filter((e) => e.name in EARTHLY_FLAG_ENV && !skip.includes(e.name))
    .map((e) => {
      const flag = EARTHLY_FLAG_ENV[e.name];
      const owner = FLAG_OWNERS[flag];
      return {
        field: "env.name",
        value: e.name,
        allowed: `not ${e.name}: Earthly reads it as ${flag}; ${owner ? `use ${owner}` : `give ${flag} in flags, where flags are checked`}`,
      };
    });
}
