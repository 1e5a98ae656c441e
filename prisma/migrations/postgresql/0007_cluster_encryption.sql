-- CreateTable
CREATE TABLE "cluster_encryption" (
    "clusterId" TEXT NOT NULL,
    "resources" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "rotation" TEXT,
    "nextKeyNumber" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "cluster_encryption_pkey" PRIMARY KEY ("clusterId")
);

-- CreateTable
CREATE TABLE "cluster_encryption_keys" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "keyMaterialId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "retiredAt" TIMESTAMP(3),

    CONSTRAINT "cluster_encryption_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "cluster_encryption_keys_keyMaterialId_key" ON "cluster_encryption_keys"("keyMaterialId");

-- CreateIndex
CREATE UNIQUE INDEX "cluster_encryption_keys_clusterId_name_key" ON "cluster_encryption_keys"("clusterId", "name");

-- AddForeignKey
ALTER TABLE "cluster_encryption" ADD CONSTRAINT "cluster_encryption_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cluster_encryption_keys" ADD CONSTRAINT "cluster_encryption_keys_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;
