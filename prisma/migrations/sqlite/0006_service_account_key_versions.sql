-- CreateTable
CREATE TABLE "service_account_keys" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "clusterId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "keyMaterialId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "signingFrom" DATETIME,
    "signingUntil" DATETIME,
    "retireAfter" DATETIME,
    "retiredAt" DATETIME,
    CONSTRAINT "service_account_keys_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "service_account_keys_keyMaterialId_fkey" FOREIGN KEY ("keyMaterialId") REFERENCES "key_materials" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- AlterTable
-- (Edited from Prisma's table redefinition: SQLite adds columns in place, so the clusters table is
-- neither copied nor dropped.)
ALTER TABLE "clusters" ADD COLUMN "serviceAccountKeyOverlapSeconds" INTEGER NOT NULL DEFAULT 604800;
ALTER TABLE "clusters" ADD COLUMN "serviceAccountKeyRotationPeriodSeconds" INTEGER;

-- CreateIndex
CREATE UNIQUE INDEX "service_account_keys_keyMaterialId_key" ON "service_account_keys"("keyMaterialId");

-- CreateIndex
CREATE INDEX "service_account_keys_state_retireAfter_idx" ON "service_account_keys"("state", "retireAfter");

-- CreateIndex
CREATE UNIQUE INDEX "service_account_keys_clusterId_version_key" ON "service_account_keys"("clusterId", "version");

-- Data: every existing cluster's one service-account key becomes its version 1, the signing key
-- since the cluster was created (reference/kubernetes.md §5; written by hand, not by Prisma).
INSERT INTO "service_account_keys" ("id", "clusterId", "version", "keyMaterialId", "state", "createdAt", "signingFrom")
SELECT 'sa:' || c."id" || ':1', c."id", 1, c."serviceAccountKeyId", 'signing', k."createdAt", c."createdAt"
FROM "clusters" c JOIN "key_materials" k ON k."id" = c."serviceAccountKeyId";
