/**
 * earthly-kubernetes: Pulumi components that run Earthly builds on Kubernetes.
 * This entry point exports every component (Pulumi's schema analyzer starts here) and the pure
 * helpers platform teams may want to reuse.
 */
export * from "./components";
