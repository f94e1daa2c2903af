/**
 * The demo program `pulumi up` runs (see Pulumi.yaml). Stack `aio` builds all-in-one; stack `remote`
 * builds on a buildkitd fleet over mTLS. The configuration is checked before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { readDemoConfig } from "./config";
import { demo } from "./demo";

const config = new pulumi.Config();
export = demo(readDemoConfig((key) => config.get(key), pulumi.getStack()));
