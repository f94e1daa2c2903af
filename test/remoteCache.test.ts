/**
 * `remoteCache` on both Jobs: where it lands in Earthly's arguments, the warning when it would be read
 * and never written (Earthly exports the cache only with `--push`), and what is refused: a digest, no
 * tag, a field of another name, and the flags that would set the cache outside it.
 */
import "./support/mocks";
import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { recorded, settle } from "./support/mocks";
import { FLEET_CONNECTION, buildAllInOne, buildRemote } from "./support/built";
import { assertRefused } from "./support/refusals";
import { EarthlyAllInOneJob, EarthlyRemoteJob } from "../components";
import type { EarthlyAllInOneJobArgs, RemoteCache } from "../components";

const TARGET = "+build";
const CACHE = "registry.example.com/acme/app-cache:main";

type Kind = "all-in-one" | "remote";
const KINDS: Kind[] = ["all-in-one", "remote"];
const COMPONENT = { "all-in-one": "EarthlyAllInOneJob", remote: "EarthlyRemoteJob" } as const;

function argsFor(kind: Kind, extra: Partial<EarthlyAllInOneJobArgs>) {
  const common = { namespace: "builds", target: TARGET, ...extra };
  return kind === "all-in-one"
    ? common
    : { ...common, fleet: FLEET_CONNECTION, clientCertPem: "cert", clientPrivateKeyPem: "key" };
}

/** The container's args and the warnings the component logged, for these arguments. */
async function built(kind: Kind, name: string, extra: Partial<EarthlyAllInOneJobArgs>) {
  const warn = mock.method(pulumi.log, "warn", () => Promise.resolve());
  try {
    const job =
      kind === "all-in-one"
        ? await buildAllInOne(name, argsFor(kind, extra))
        : await buildRemote(name, argsFor("remote", extra) as Parameters<typeof buildRemote>[1]);
    await settle();
    const warnings = warn.mock.calls.map((c) => String(c.arguments[0]));
    return { args: job.container.args as string[], warnings };
  } finally {
    warn.mock.restore();
  }
}

for (const kind of KINDS) {
  describe(`remoteCache on the ${kind} Job`, () => {
    test("unset: no cache flag, no warning", async () => {
      const { args, warnings } = await built(kind, `${kind}-none`, { flags: ["--ci"] });
      assert.equal(
        args.some((a) => a.includes("remote-cache")),
        false,
      );
      assert.deepEqual(
        warnings.filter((w) => w.includes("remoteCache")),
        [],
      );
    });

    // --push anywhere among the flags, the first included, and in its =true form.
    for (const flags of [["--ci", "--push"], ["--push"], ["--push=true", "--ci"]]) {
      test(`with ${JSON.stringify(flags)}: --remote-cache=<image> first, before the user's flags; no --max-remote-cache without max; no warning`, async () => {
        const { args, warnings } = await built(kind, `${kind}-push-${flags.length}-${flags[0]}`, {
          remoteCache: { image: CACHE },
          flags,
        });
        assert.deepEqual(args.slice(0, flags.length + 1), [`--remote-cache=${CACHE}`, ...flags]);
        assert.equal(args.includes("--max-remote-cache"), false);
        assert.deepEqual(
          warnings.filter((w) => w.includes("remoteCache")),
          [],
        );
      });
    }

    test("max: --max-remote-cache right after it; max false: none", async () => {
      const withMax = await built(kind, `${kind}-max`, {
        remoteCache: { image: CACHE, max: true },
        flags: ["--push"],
      });
      assert.deepEqual(withMax.args.slice(0, 2), [`--remote-cache=${CACHE}`, "--max-remote-cache"]);
      const without = await built(kind, `${kind}-nomax`, {
        remoteCache: { image: CACHE, max: false },
        flags: ["--push"],
      });
      assert.equal(without.args.includes("--max-remote-cache"), false);
    });

    for (const flags of [undefined, ["--ci"], ["--push=false"], ["--push", "--push=false"]]) {
      test(`flags ${JSON.stringify(flags)}: read, never written: one warning on the component naming the image and --push`, async () => {
        const { warnings } = await built(kind, `${kind}-warn-${JSON.stringify(flags)}`, {
          remoteCache: { image: CACHE },
          ...(flags ? { flags } : {}),
        });
        const cacheWarnings = warnings.filter((w) => w.includes("remoteCache"));
        assert.equal(cacheWarnings.length, 1, warnings.join("\n"));
        assert.ok(cacheWarnings[0].startsWith(`${COMPONENT[kind]} "${kind}-warn-`), cacheWarnings[0]);
        assert.match(cacheWarnings[0], new RegExp(`remoteCache ${CACHE} is read but not written`));
        assert.match(cacheWarnings[0], /exports the cache only with --push/);
      });
    }
  });

  describe(`remoteCache refusals on the ${kind} Job (nothing registered)`, () => {
    const make = (extra: Partial<EarthlyAllInOneJobArgs>) => () =>
      kind === "all-in-one"
        ? new EarthlyAllInOneJob("refused", argsFor(kind, extra))
        : new EarthlyRemoteJob(
            "refused",
            argsFor("remote", extra) as ConstructorParameters<typeof EarthlyRemoteJob>[1],
          );
    const cases: [string, Partial<EarthlyAllInOneJobArgs>, string, string, RegExp][] = [
      [
        "a digest (the cache is written to a tag)",
        { remoteCache: { image: `registry.example.com/acme/app-cache@sha256:${"a".repeat(64)}` } },
        "remoteCache.image",
        `"registry.example.com/acme/app-cache@sha256:${"a".repeat(64)}"`,
        /an image with a tag and no digest/,
      ],
      [
        "no tag",
        { remoteCache: { image: "registry.example.com/acme/app-cache" } },
        "remoteCache.image",
        '"registry.example.com/acme/app-cache"',
        /an image reference with a tag or digest/,
      ],
      [
        "no image",
        { remoteCache: { max: true } as unknown as RemoteCache },
        "remoteCache.image",
        "nothing",
        /the cache image, with a tag/,
      ],
      [
        "max as a string",
        { remoteCache: { image: CACHE, max: "true" as unknown as boolean } },
        "remoteCache.max",
        '"true"',
        /true or false/,
      ],
      [
        "a field of another name",
        { remoteCache: { image: CACHE, ref: "x" } as unknown as RemoteCache },
        "remoteCache.ref",
        '"x"',
        /no such field; the fields are image, max/,
      ],
    ];
    for (const [label, extra, field, got, allowed] of cases) {
      test(label, async () => {
        await assertRefused(make(extra), [{ field, got, allowed }]);
        assert.deepEqual(recorded, []);
      });
    }
    // Each flag that would set the cache outside remoteCache, in each spelling Earthly takes.
    for (const flag of [
      "--remote-cache=registry.example.com/x:1",
      "--remote-cache",
      "-remote-cache",
      "--max-remote-cache",
      "-max-remote-cache",
    ]) {
      test(`${flag} in flags`, async () => {
        await assertRefused(make({ flags: ["--ci", flag] }), [
          {
            field: "flags[1]",
            got: JSON.stringify(flag.includes("=") ? `${flag.split("=")[0]}=(given)` : flag),
            allowed:
              /a flag other than --(max-)?remote-cache: give (the cache image as remoteCache\.image|it as remoteCache\.max)/,
          },
        ]);
      });
    }
  });
}
