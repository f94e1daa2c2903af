import { test } from "node:test";
import assert from "node:assert/strict";
import { pickInstance, rankInstances, rendezvousScore } from "../components/fleet/pinning";
import { fleetNames } from "../components/fleet/names";

/** The instance names of a fleet of `replicas` instances, as the StatefulSet names its pods. */
function instances(replicas: number): string[] {
  return fleetNames({ fleetName: "buildkitd", namespace: "earthly", replicas }).instanceNames;
}

/** `count` cache keys shaped like repository URLs. */
function keys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `github.com/example/repo-${i}`);
}

/** The score as 16 lower-case hex digits. */
function hex(score: bigint): string {
  return score.toString(16).padStart(16, "0");
}

/** A deterministic permutation (a small LCG drives a Fisher-Yates shuffle), so failures reproduce. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test("rendezvousScore is an unsigned 64-bit integer and deterministic", () => {
  for (const key of keys(50)) {
    for (const instance of instances(4)) {
      const score = rendezvousScore(key, instance);
      assert.equal(typeof score, "bigint");
      assert.ok(score >= 0n && score < 1n << 64n);
      assert.equal(rendezvousScore(key, instance), score);
    }
  }
});

test("rendezvousScore encodes (key, instance) unambiguously", () => {
  // A plain concatenation would hash these pairs identically.
  assert.notEqual(rendezvousScore("ab", "c"), rendezvousScore("a", "bc"));
  assert.notEqual(rendezvousScore("a\u0000b", "c"), rendezvousScore("a", "b\u0000c"));
  assert.notEqual(rendezvousScore("k", "i"), rendezvousScore("i", "k"));
});

test("golden vectors: the hash encoding and the picks never change silently", () => {
  // Computed once from SHA-256(u32be(len key) ‖ key ‖ u32be(len instance) ‖ instance), first 8 bytes.
  assert.equal(hex(rendezvousScore("github.com/earthly/earthly", "buildkitd-0")), "92cfda4564ce01ce");
  assert.equal(hex(rendezvousScore("ab", "c")), "f2939f903016e5bb");
  assert.equal(hex(rendezvousScore("a", "bc")), "b534ce16ac9c8b36");
  assert.equal(hex(rendezvousScore("", "")), "af5570f5a1810b7a");

  const vectors: { key: string; replicas: number; pick: string; score: string }[] = [
    { key: "github.com/earthly/earthly", replicas: 4, pick: "buildkitd-2", score: "a18b55611ccbbcc9" },
    { key: "github.com/acme/api", replicas: 4, pick: "buildkitd-0", score: "a16e15f476bd4d62" },
    { key: "github.com/acme/web", replicas: 4, pick: "buildkitd-3", score: "e6fe91d7cd4ba61d" },
    { key: "github.com/acme/web", replicas: 3, pick: "buildkitd-0", score: "a6502dc19a61e058" },
    { key: "monorepo", replicas: 8, pick: "buildkitd-0", score: "d68d269cb1dd6b07" },
    { key: "\u00e9/\u00fc", replicas: 2, pick: "buildkitd-1", score: "c324c25825715821" },
    { key: "repo\u0000x", replicas: 4, pick: "buildkitd-0", score: "ad1a9539eea30e40" },
  ];
  for (const { key, replicas, pick, score } of vectors) {
    assert.equal(
      pickInstance(key, instances(replicas)),
      pick,
      `pick for ${JSON.stringify(key)} of ${replicas}`,
    );
    assert.equal(hex(rendezvousScore(key, pick)), score, `score of ${pick} for ${JSON.stringify(key)}`);
  }
  assert.deepEqual(rankInstances("github.com/earthly/earthly", instances(4)), [
    "buildkitd-2",
    "buildkitd-0",
    "buildkitd-1",
    "buildkitd-3",
  ]);
});

test("pickInstance is deterministic and returns one of the instances", () => {
  const fleet = instances(5);
  for (const key of keys(200)) {
    const pick = pickInstance(key, fleet);
    assert.ok(fleet.includes(pick));
    assert.equal(pickInstance(key, fleet), pick);
    assert.equal(pickInstance(key, [...fleet]), pick);
  }
});

test("pickInstance and rankInstances do not depend on the order of the list", () => {
  const fleet = instances(6);
  for (const [n, key] of keys(300).entries()) {
    const pick = pickInstance(key, fleet);
    const rank = rankInstances(key, fleet);
    for (const seed of [1, 2, 3, n + 17]) {
      const other = shuffled(fleet, seed);
      assert.equal(pickInstance(key, other), pick);
      assert.deepEqual(rankInstances(key, other), rank);
    }
    assert.equal(pickInstance(key, [...fleet].reverse()), pick);
  }
});

test("rankInstances lists every instance once, by descending score, headed by the pick", () => {
  const fleet = instances(7);
  for (const key of keys(100)) {
    const rank = rankInstances(key, [...fleet, ...fleet]);
    assert.deepEqual([...rank].sort(), [...fleet].sort());
    assert.equal(rank[0], pickInstance(key, fleet));
    for (let i = 1; i < rank.length; i++) {
      assert.ok(rendezvousScore(key, rank[i - 1]) > rendezvousScore(key, rank[i]));
    }
    // The fallback order is what pickInstance picks once the better instances are gone.
    assert.equal(rank[1], pickInstance(key, rank.slice(1)));
    assert.equal(rank[2], pickInstance(key, rank.slice(2)));
  }
  assert.deepEqual(rankInstances("k", []), []);
});

test("10,000 keys spread over 4 instances within ±10% of uniform", () => {
  const fleet = instances(4);
  const counts = new Map(fleet.map((name) => [name, 0]));
  for (const key of keys(10_000)) {
    const pick = pickInstance(key, fleet);
    counts.set(pick, (counts.get(pick) ?? 0) + 1);
  }
  for (const [name, count] of counts) {
    assert.ok(count >= 2250 && count <= 2750, `${name} got ${count} of 10000 keys`);
  }
});

test("scaling N→N+1 (N = 1..8) moves about 1/(N+1) of the keys, all to the new instance", () => {
  const all = keys(10_000);
  let before = all.map((key) => pickInstance(key, instances(1)));
  for (let n = 1; n <= 8; n++) {
    const fleet = instances(n + 1);
    const added = fleet[n];
    const after = all.map((key) => pickInstance(key, fleet));
    let moved = 0;
    for (const [i, key] of all.entries()) {
      if (before[i] !== after[i]) {
        moved++;
        assert.equal(after[i], added, `${key} moved ${before[i]}→${after[i]}, not to the new ${added}`);
      }
    }
    const fraction = moved / all.length;
    const ideal = 1 / (n + 1);
    assert.ok(Math.abs(fraction - ideal) <= 0.05, `N=${n}→${n + 1}: moved ${fraction}, ideal ${ideal}`);
    before = after;
  }
});

test("losing one instance moves only the keys that were on it", () => {
  const all = keys(10_000);
  for (const n of [2, 4, 8]) {
    const fleet = instances(n);
    const before = all.map((key) => pickInstance(key, fleet));
    for (const lost of new Set([0, n >> 1, n - 1])) {
      const survivors = fleet.filter((_, i) => i !== lost);
      let onLost = 0;
      for (const [i, key] of all.entries()) {
        const to = pickInstance(key, survivors);
        if (before[i] === fleet[lost]) {
          onLost++;
          // It moves to its second choice.
          assert.equal(to, rankInstances(key, fleet)[1]);
        } else {
          assert.equal(to, before[i], `${key} moved ${before[i]}→${to} although ${fleet[lost]} was lost`);
        }
      }
      assert.ok(Math.abs(onLost / all.length - 1 / n) <= 0.05, `${fleet[lost]} held ${onLost} keys`);
    }
  }
});

test("empty input is refused with a clear error", () => {
  assert.throws(() => pickInstance("repo", []), /instance list is empty/);
  assert.throws(() => pickInstance("", instances(2)), /cache key must be a non-empty string/);
  assert.throws(() => pickInstance("", []), /cache key must be a non-empty string/);
  assert.throws(() => pickInstance("repo", ["buildkitd-0", ""]), /instance name must be a non-empty string/);
  assert.throws(() => rankInstances("", instances(2)), /cache key must be a non-empty string/);
  assert.throws(() => rankInstances("repo", [""]), /instance name must be a non-empty string/);
});

test("a single instance is always picked", () => {
  for (const key of keys(20)) assert.equal(pickInstance(key, ["only"]), "only");
});
