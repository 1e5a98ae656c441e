-- AlterTable
ALTER TABLE "certificate_authorities" ADD COLUMN     "clusterId" TEXT;

-- CreateTable
CREATE TABLE "clusters" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "dnsDomain" TEXT NOT NULL,
    "serviceSubnets" TEXT NOT NULL,
    "controlPlaneEndpoint" TEXT NOT NULL,
    "apiServerCertSans" TEXT NOT NULL,
    "etcdServerCertSans" TEXT NOT NULL,
    "etcdPeerCertSans" TEXT NOT NULL,
    "keyAlgorithm" TEXT NOT NULL,
    "certificateValiditySeconds" INTEGER NOT NULL,
    "kubernetesCaId" TEXT NOT NULL,
    "etcdCaId" TEXT NOT NULL,
    "frontProxyCaId" TEXT NOT NULL,
    "serviceAccountKeyId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "clusters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cluster_nodes" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "addresses" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "cluster_nodes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "clusters_name_key" ON "clusters"("name");

-- CreateIndex
CREATE UNIQUE INDEX "cluster_nodes_clusterId_name_key" ON "cluster_nodes"("clusterId", "name");

-- CreateIndex
CREATE INDEX "certificate_authorities_clusterId_idx" ON "certificate_authorities"("clusterId");

-- AddForeignKey
ALTER TABLE "cluster_nodes" ADD CONSTRAINT "cluster_nodes_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;
