/**
 * The Job resource's pure builder beside it (`jobs/buildJob.ts`): empty annotation maps are left
 * out, given ones kept (on the Job and on its pod template, each from its own input), the labels on
 * both, the numbers in place.
 */
import "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildJob } from "../components/jobs/buildJob";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const BASE = {
  namespace: "builds",
  labels: { app: "earthly" },
  podSpec: { containers: [{ name: "earthly", image: "earthly/earthly:v0.8.16" }] },
  backoffLimit: 1,
};

test("empty annotation maps are left out, on the Job and on its template", () => {
  for (const empty of [undefined, {}]) {
    const job = buildJob({ ...BASE, annotations: empty, templateAnnotations: empty }) as Obj;
    assert.equal("annotations" in job.metadata, false, JSON.stringify(empty));
    assert.equal("annotations" in job.spec.template.metadata, false, JSON.stringify(empty));
  }
});

test("the Job's annotations and the template's each land in their own place", () => {
  const job = buildJob({
    ...BASE,
    annotations: { "pulumi.com/skipAwait": "true" },
    templateAnnotations: { "earthly-kubernetes/rebuild-trigger": "2" },
    ttlSecondsAfterFinished: 60,
    activeDeadlineSeconds: 3600,
  }) as Obj;
  assert.deepEqual(job.metadata, {
    namespace: "builds",
    labels: { app: "earthly" },
    annotations: { "pulumi.com/skipAwait": "true" },
  });
  assert.deepEqual(job.spec.template.metadata, {
    labels: { app: "earthly" },
    annotations: { "earthly-kubernetes/rebuild-trigger": "2" },
  });
  assert.equal(job.spec.backoffLimit, 1);
  assert.equal(job.spec.ttlSecondsAfterFinished, 60);
  assert.equal(job.spec.activeDeadlineSeconds, 3600);
  assert.equal(job.spec.template.spec, BASE.podSpec);
});
