-- CreateTable
CREATE TABLE "cluster_encryption" (
    "clusterId" TEXT NOT NULL PRIMARY KEY,
    "resources" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "rotation" TEXT,
    "nextKeyNumber" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "cluster_encryption_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "cluster_encryption_keys" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "clusterId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "keyMaterialId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "retiredAt" DATETIME,
    CONSTRAINT "cluster_encryption_keys_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "cluster_encryption_keys_keyMaterialId_key" ON "cluster_encryption_keys"("keyMaterialId");

-- CreateIndex
CREATE UNIQUE INDEX "cluster_encryption_keys_clusterId_name_key" ON "cluster_encryption_keys"("clusterId", "name");
