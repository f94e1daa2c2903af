/**
 * The demo program `pulumi up` runs (see Pulumi.yaml). Stack `aio` builds all-in-one; stack `remote`
 * builds on a buildkitd fleet over mTLS. The configuration is checked before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { readDemoConfig, unreadConfigWarnings } from "./config";
import { demo } from "./demo";

const config = new pulumi.Config();
const settings = readDemoConfig((key) => config.get(key), pulumi.getStack());
for (const warning of unreadConfigWarnings(
  Object.keys(pulumi.runtime.allConfig()),
  pulumi.getProject(),
  settings.mode,
)) {
  void pulumi.log.warn(warning);
}
export = demo(settings);
