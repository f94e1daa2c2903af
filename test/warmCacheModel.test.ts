import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cumulative,
  deriveSeed,
  drawIndex,
  ENDPOINT_STREAM,
  expectedClientIpWarmHits,
  movedFraction,
  mulberry32,
  popularityWeights,
  reassignment,
  repositoryNames,
  simulateWarmHits,
  tallyBuilds,
} from "../bench/warmCacheModel";
import { pickInstance } from "../components/fleet/pinning";

const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);

test("mulberry32 is the reference generator and reproducible", () => {
  const rng = mulberry32(1);
  // The reference mulberry32 with seed 1 starts 0.6270739405881613 = 2693262067 / 2^32.
  assert.deepEqual(
    [rng(), rng(), rng()].map((u) => u * 2 ** 32),
    [2693262067, 11749833, 2265367787],
  );
  const a = mulberry32(42);
  const b = mulberry32(42);
  for (let i = 0; i < 1000; i++) {
    const u = a();
    assert.equal(b(), u);
    assert.ok(u >= 0 && u < 1);
  }
  assert.notEqual(mulberry32(42)(), mulberry32(43)());
  assert.notEqual(deriveSeed(7, 0), deriveSeed(7, 1));
  assert.equal(deriveSeed(7, 0), 588686121);
});

test("tallyBuilds counts a hand-worked sequence", () => {
  // build:   1   2   3   4   5   6
  // repo:    r1  r1  r2  r1  r2  r1
  // landed:  a   b   a   a   b   b
  // 1 first; 2 cold (b is new to r1); 3 first; 4 warm (a built r1), previous r1 was on b;
  // 5 cold (b never built r2); 6 warm (b built r1 at 2), previous r1 was on a.
  const { tally, records } = tallyBuilds(
    ["r1", "r1", "r2", "r1", "r2", "r1"],
    ["a", "b", "a", "a", "b", "b"],
  );
  assert.deepEqual(
    records.map((r) => [r.first, r.warm, r.hot]),
    [
      [true, false, false],
      [false, false, false],
      [true, false, false],
      [false, true, false],
      [false, false, false],
      [false, true, false],
    ],
  );
  assert.equal(tally.builds, 6);
  assert.equal(tally.firstBuilds, 2);
  assert.equal(tally.eligible, 4);
  assert.equal(tally.warmHits, 2);
  assert.equal(tally.hotHits, 0);
  assert.equal(tally.coldBuilds, 4);
  close(tally.warmRatio, 0.5, "warm ratio");
  close(tally.cacheCopiesPerRepository, 2, "copies");

  // The same builds all on one instance: everything after each first build is warm and on the previous instance.
  const pinned = tallyBuilds(["r1", "r1", "r2", "r1", "r2", "r1"], ["a", "a", "a", "a", "a", "a"]).tally;
  assert.deepEqual(
    [pinned.firstBuilds, pinned.warmHits, pinned.hotHits, pinned.coldBuilds, pinned.cacheCopiesPerRepository],
    [2, 4, 4, 2, 1],
  );
  assert.throws(() => tallyBuilds(["r1"], []), /1 repositories but 0 landings/);
});

test("one instance: both strategies are 100% warm after each repository's first build", () => {
  const sim = simulateWarmHits({ repositories: 5, builds: 50, instances: 1, seed: 3 });
  const distinct = new Set(sim.sequence).size;
  for (const { tally, landings } of [sim.clientIp, sim.rendezvous]) {
    assert.ok(landings.every((l) => l === "buildkitd-0"));
    assert.equal(tally.firstBuilds, distinct);
    assert.equal(tally.eligible, 50 - distinct);
    assert.equal(tally.warmHits, tally.eligible);
    assert.equal(tally.hotHits, tally.eligible);
    assert.equal(tally.warmRatio, 1);
    assert.equal(tally.coldBuilds, distinct);
  }
});

test("R=1, ClientIP on N=2, seed 7: the counts follow from the landing sequence", () => {
  const sim = simulateWarmHits({ repositories: 1, builds: 10, instances: 2, seed: 7 });
  // kube-proxy's choices are the endpoint stream of the seed, one uniform draw per build.
  const endpoint = mulberry32(deriveSeed(7, ENDPOINT_STREAM));
  const expected = Array.from({ length: 10 }, () => `buildkitd-${Math.floor(endpoint() * 2)}`);
  assert.deepEqual(sim.clientIp.landings, expected);
  // Computed once: 0 1 0 0 0 1 0 1 0 1. By hand: build 1 is first; build 2 is the only cold one after it
  // (instance 1 is new); builds 3..10 are warm (both instances have built it): 8 of 9. On the previous
  // build's instance: builds 4 and 5 only (0→0, 0→0): 2 of 9. Both instances hold a copy.
  assert.equal(sim.clientIp.landings.map((l) => l.slice(-1)).join(""), "0100010101");
  const c = sim.clientIp.tally;
  assert.deepEqual(
    [c.firstBuilds, c.eligible, c.warmHits, c.hotHits, c.coldBuilds, c.cacheCopiesPerRepository],
    [1, 9, 8, 2, 2, 2],
  );
  // Rendezvous: one instance forever, so 9 of 9.
  const r = sim.rendezvous.tally;
  assert.deepEqual([r.warmHits, r.hotHits, r.coldBuilds, r.cacheCopiesPerRepository], [9, 9, 1, 1]);
});

test("first builds are counted exactly, and both strategies see the same build sequence", () => {
  for (const popularity of ["uniform", "zipf"] as const) {
    for (const builds of [1, 3, 7, 40]) {
      const sim = simulateWarmHits({ repositories: 6, builds, instances: 3, popularity, seed: 11 });
      const distinct = new Set(sim.sequence).size;
      assert.equal(sim.sequence.length, builds);
      assert.equal(
        sim.buildsPerRepository.reduce((a, b) => a + b, 0),
        builds,
      );
      assert.equal(sim.buildsPerRepository.filter((n) => n > 0).length, distinct);
      for (const { tally, records } of [sim.clientIp, sim.rendezvous]) {
        assert.equal(tally.firstBuilds, distinct);
        assert.equal(tally.eligible, builds - distinct);
        assert.deepEqual(
          records.map((r) => r.repository),
          sim.sequence,
        );
        // The first build of each repository is the one at its first index.
        assert.deepEqual(
          records.map((r) => r.first),
          sim.sequence.map((repo, i) => sim.sequence.indexOf(repo) === i),
        );
      }
    }
  }
});

test("rendezvous landings are pickInstance over the fleet's instance names", () => {
  const sim = simulateWarmHits({ repositories: 8, builds: 30, instances: 4, seed: 5, fleetName: "bk" });
  assert.deepEqual(sim.instanceNames, ["bk-0", "bk-1", "bk-2", "bk-3"]);
  sim.sequence.forEach((repo, i) =>
    assert.equal(sim.rendezvous.landings[i], pickInstance(repo, sim.instanceNames)),
  );
  assert.equal(sim.rendezvous.tally.warmRatio, 1);
  assert.equal(sim.rendezvous.tally.coldBuilds, sim.rendezvous.tally.firstBuilds);
});

test("the simulation is reproducible and depends on the seed", () => {
  const a = simulateWarmHits({ seed: 99, builds: 200 });
  const b = simulateWarmHits({ seed: 99, builds: 200 });
  assert.deepEqual(a.sequence, b.sequence);
  assert.deepEqual(a.clientIp.landings, b.clientIp.landings);
  assert.deepEqual(a.clientIp.tally, b.clientIp.tally);
  assert.notDeepEqual(simulateWarmHits({ seed: 100, builds: 200 }).sequence, a.sequence);
  assert.throws(() => simulateWarmHits({ instances: 0 }), /instances must be a positive integer/);
  assert.throws(() => simulateWarmHits({ builds: 1.5 }), /builds must be a positive integer/);
});

test("popularity weights and inverse-CDF draws", () => {
  const zipf = popularityWeights(3, "zipf");
  close(zipf[0], 6 / 11, "w1");
  close(zipf[1], 3 / 11, "w2");
  close(zipf[2], 2 / 11, "w3");
  assert.deepEqual(popularityWeights(4, "uniform"), [0.25, 0.25, 0.25, 0.25]);
  const cdf = cumulative(zipf);
  assert.equal(cdf[2], 1);
  assert.deepEqual(
    [0, 0.5, 0.5454, 0.55, 0.8, 0.82, 0.999999].map((u) => drawIndex(cdf, u)),
    [0, 0, 0, 1, 1, 2, 2],
  );
  assert.deepEqual(repositoryNames(3), [
    "github.com/example/repo-0",
    "github.com/example/repo-1",
    "github.com/example/repo-2",
  ]);
  assert.equal(repositoryNames(11)[10], "github.com/example/repo-10");
  assert.equal(repositoryNames(11)[0], "github.com/example/repo-00");
});

test("expectedClientIpWarmHits by hand", () => {
  // N=2, 3 builds: build 2 warm with 1/2, build 3 with 1 - 1/4 = 3/4.
  close(expectedClientIpWarmHits([3], 2), 1.25, "N=2, 3 builds");
  close(expectedClientIpWarmHits([1, 1], 4), 0, "first builds only");
  close(expectedClientIpWarmHits([5, 2], 1), 5, "one instance: all but the first");
});

test("reassignment counts moves by hand with a toy modulo pick, and rendezvous moves only to the new instance", () => {
  // Modulo hashing of keys "0".."5": [a,b] → [a,b,c]. Before: a b a b a b; after: a b c a b c.
  // Keys 2..5 move (4 of 6); only 2 and 5 move to the new c.
  const modulo = (key: string, list: readonly string[]): string => list[Number(key) % list.length];
  const keys = ["0", "1", "2", "3", "4", "5"];
  assert.deepEqual(reassignment(keys, ["a", "b"], ["a", "b", "c"], modulo), {
    keys: 6,
    moved: 4,
    fraction: 4 / 6,
    movedToAdded: 2,
    movedFromRemoved: 0,
    onRemoved: 0,
  });
  // Losing b of [a,b,c]: before a b c a b c; after [a,c]: a c a c a c. Keys 1..4 move (5 stays on c),
  // only 1 and 4 because b is gone: modulo hashing moves keys between surviving instances too.
  const lost = reassignment(keys, ["a", "b", "c"], ["a", "c"], modulo);
  assert.equal(lost.onRemoved, 2);
  assert.equal(lost.movedFromRemoved, 2);
  assert.equal(lost.moved, 4);
  close(movedFraction(keys, ["a", "b"], ["a", "b", "c"], modulo), 4 / 6, "movedFraction");

  const many = repositoryNames(400);
  const up = reassignment(many, ["i-0", "i-1", "i-2"], ["i-0", "i-1", "i-2", "i-3"]);
  assert.equal(up.movedToAdded, up.moved);
  assert.ok(up.moved > 0);
  const down = reassignment(many, ["i-0", "i-1", "i-2"], ["i-0", "i-2"]);
  assert.equal(down.moved, down.onRemoved);
  assert.equal(down.movedFromRemoved, down.moved);
  assert.equal(reassignment(many, ["i-0", "i-1"], ["i-1", "i-0"]).moved, 0);
});
