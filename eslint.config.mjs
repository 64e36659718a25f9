import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".floodgate/", "bench-results/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        require: "readonly",
        module: "writable",
        __dirname: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read the environment only in the config modules." },
      ],
    },
  },
  {
    // Type-aware: a promise nobody awaits or handles, or one passed where a void callback is expected,
    // loses its rejection.
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  {
    // The modules allowed to read process.env: service config, the local stack, scripts, runbooks and test harness, bootstrap.
    files: [
      "services/src/platform/config.ts",
      "services/src/backup/config.ts",
      "services/src/autoscaler/config.ts",
      "services/src/static-sync/config.ts",
      "scripts/**",
      "infra/targets/local/**",
      "runbooks/**",
      "test/**",
      "jest.config.js",
      "**/*.test.ts",
    ],
    rules: { "no-restricted-properties": "off", "@typescript-eslint/no-require-imports": "off" },
  },
);
