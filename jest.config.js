// Two projects: unit tests run alone; integration tests share one test stack that
// globalSetup starts on its own ports and globalTeardown stops. `npm run jest` runs Jest with
// --experimental-vm-modules, which lets Jest require() ESM-only packages (jose) natively.
const transform = { "^.+\\.ts$": "ts-jest" };
// .floodgate/ holds run state and the staged image build contexts (copies of the sources): never modules.
const common = {
  testEnvironment: "node",
  transform,
  moduleFileExtensions: ["ts", "js", "json"],
  modulePathIgnorePatterns: ["<rootDir>/.floodgate/"],
};

module.exports = {
  testTimeout: 120000,
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: [
        "<rootDir>/{infra,services,scripts,runbooks,monitoring}/**/*.test.ts",
        // The test kits' own tests (the Pulumi mocks, the Engine provider).
        "<rootDir>/test/support/*.test.ts",
      ],
      testPathIgnorePatterns: ["\\.int\\.test\\.ts$"],
    },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/**/*.int.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", "/.floodgate/"],
      globalSetup: "<rootDir>/test/stack/global-setup.ts",
      globalTeardown: "<rootDir>/test/stack/global-teardown.ts",
    },
    {
      // On the machine's real Docker Engine (installed and started by globalSetup when missing).
      ...common,
      displayName: "docker",
      testMatch: ["<rootDir>/test/docker/**/*.docker.test.ts"],
      globalSetup: "<rootDir>/test/docker/global-setup.ts",
    },
  ],
};
