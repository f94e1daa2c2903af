/**
 * earthly-kubernetes: Pulumi components that run Earthly builds on Kubernetes.
 * This entry point re-exports the public API of components/index.ts (Pulumi's schema analyzer
 * starts here); nothing else of components/ is public.
 */
export * from "./components";
