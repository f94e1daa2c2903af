/**
 * Reading what the probe image (probe.sh) reported from inside a real container: its log, read
 * through the API server from the real kubelet, once the pod has finished.
 */
import { ControlPlane } from "../engine/controlPlane";

/** The probe's `key=value` lines; `raw` is the whole log. */
export type ProbeReport = { [key: string]: string } & { raw: string };

/** Parses a probe log; throws when the probe did not run to its end. */
export function parseProbe(log: string): ProbeReport {
  const report: { [key: string]: string } = {};
  for (const line of log.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) report[line.slice(0, eq)] = line.slice(eq + 1);
  }
  if (report.probe !== "end") throw new Error(`the probe did not finish; its log:\n${log}`);
  return { ...report, raw: log };
}

/**
 * Waits (up to `timeoutMs`) until the pod of `workload` (`pod/NAME` or `job/NAME`) has a finished
 * container, then returns its log. Fails with the pods' state when it never finishes.
 */
export async function finishedLog(
  cp: ControlPlane,
  namespace: string,
  workload: string,
  timeoutMs = 120_000,
): Promise<string> {
  const start = Date.now();
  const selector = workload.startsWith("job/")
    ? ["-l", `job-name=${workload.slice(4)}`]
    : [workload.slice(4)];
  while (Date.now() - start < timeoutMs) {
    const r = cp.tryKubectl([
      "get",
      "pods",
      "-n",
      namespace,
      ...selector,
      "-o",
      "jsonpath={..containerStatuses[0].state.terminated.reason}",
    ]);
    if (r.status === 0 && r.stdout.trim() !== "") return cp.kubectl(["logs", "-n", namespace, workload]);
    await new Promise((res) => setTimeout(res, 500));
  }
  const state = cp.tryKubectl(["get", "pods", "-n", namespace, "-o", "yaml"]).stdout;
  throw new Error(`${workload} in ${namespace} did not finish in ${timeoutMs} ms; pods:\n${state}`);
}

/** The probe's report from `workload`'s finished pod (see {@link finishedLog}). */
export async function probeReport(
  cp: ControlPlane,
  namespace: string,
  workload: string,
  timeoutMs = 120_000,
): Promise<ProbeReport> {
  return parseProbe(await finishedLog(cp, namespace, workload, timeoutMs));
}
