/** Reads a demo stack's committed configuration file, as `pulumi.Config#get` would see it. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

export function stackConfigGetter(stack: string): (key: string) => string | undefined {
  const project = (
    YAML.parse(readFileSync(path.join(__dirname, "../../Pulumi.yaml"), "utf8")) as { name: string }
  ).name;
  const file = path.join(__dirname, `../../stacks/Pulumi.${stack}.yaml`);
  const config = (YAML.parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
  return (key) => {
    const value = config[`${project}:${key}`];
    return value === undefined ? undefined : String(value);
  };
}
