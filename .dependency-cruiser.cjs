// Layer rules of ARCHITECTURE.md §2 / STYLE.md "Dependency rules", checked in CI (npm run lint).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "core-shared-is-leaf",
      comment: "core/shared depends on nothing but the standard library",
      severity: "error",
      from: { path: "^src/core/shared/" },
      to: { path: "^src/", pathNot: "^src/core/shared/" },
    },
    {
      name: "core-crypto-only-shared",
      severity: "error",
      from: { path: "^src/core/crypto/" },
      to: { path: "^src/", pathNot: "^src/core/(shared|crypto)/" },
    },
    {
      name: "core-knows-no-adapters",
      comment: "core knows no transport, no infra, no express/prisma/grpc/commander",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^src/(transports|infra|config)/|^src/(app|main)\\.ts$" },
    },
    {
      name: "core-no-frameworks",
      severity: "error",
      from: { path: "^src/core/" },
      to: { dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer"] },
    },
    {
      name: "pki-and-kms-are-independent",
      severity: "error",
      from: { path: "^src/core/pki/" },
      to: { path: "^src/core/(kms|access|kubernetes|jobs|bootstrap)/" },
    },
    {
      name: "kms-and-pki-are-independent",
      severity: "error",
      from: { path: "^src/core/kms/" },
      to: { path: "^src/core/(pki|access|kubernetes|jobs|bootstrap)/" },
    },
    {
      name: "transports-use-core-surfaces",
      comment: "transports import core index files and shared/crypto types, never infra or core internals",
      severity: "error",
      from: { path: "^src/transports/" },
      to: { path: "^src/infra/|^src/core/(pki|kms|access|kubernetes|jobs)/(?!index\\.ts$)" },
    },
    {
      name: "transports-are-separate",
      severity: "error",
      from: { path: "^src/transports/([^/]+)/" },
      to: { path: "^src/transports/", pathNot: "^src/transports/$1/" },
    },
    {
      name: "infra-not-transports",
      severity: "error",
      from: { path: "^src/infra/" },
      to: { path: "^src/transports/|^src/(app|main)\\.ts$" },
    },
    {
      name: "prisma-stays-in-infra-prisma",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/infra/prisma/|^src/infra/open-storage\\.ts$|^src/app\\.ts$" },
      to: { path: "^src/infra/prisma/generated/|@prisma" },
    },
    {
      name: "composition-root-not-imported",
      comment: "only main.ts (the process entry) may import app.ts",
      severity: "error",
      from: { pathNot: "^src/main\\.ts$" },
      to: { path: "^src/(app|main)\\.ts$" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "src/infra/prisma/generated/|\\.test\\.ts$|/testing/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js"] },
  },
};
