-- CreateTable
CREATE TABLE "crls" (
    "caId" TEXT NOT NULL,
    "number" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "isBase" BOOLEAN NOT NULL,
    "baseNumber" BIGINT,
    "thisUpdate" TIMESTAMP(3) NOT NULL,
    "nextUpdate" TIMESTAMP(3) NOT NULL,
    "revokedTotal" INTEGER NOT NULL,
    "der" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "crls_pkey" PRIMARY KEY ("caId","number")
);

-- CreateIndex
CREATE INDEX "crls_caId_kind_number_idx" ON "crls"("caId", "kind", "number");

-- AddForeignKey
ALTER TABLE "crls" ADD CONSTRAINT "crls_caId_fkey" FOREIGN KEY ("caId") REFERENCES "certificate_authorities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
