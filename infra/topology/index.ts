/** The one typed description of the system; every target renders its configs from it. */
export * from "./schema";
export * from "./parse";
export * from "./addresses";
export * from "./names";
export * from "./service-env";
export * from "./memory";
export { secret, isSecretSchema } from "./secret";
export * from "./ports";
