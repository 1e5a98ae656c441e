-- CreateTable
CREATE TABLE "crls" (
    "caId" TEXT NOT NULL,
    "number" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "isBase" BOOLEAN NOT NULL,
    "baseNumber" BIGINT,
    "thisUpdate" DATETIME NOT NULL,
    "nextUpdate" DATETIME NOT NULL,
    "revokedTotal" INTEGER NOT NULL,
    "der" BLOB NOT NULL,
    "createdAt" DATETIME NOT NULL,

    PRIMARY KEY ("caId", "number"),
    CONSTRAINT "crls_caId_fkey" FOREIGN KEY ("caId") REFERENCES "certificate_authorities" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "crls_caId_kind_number_idx" ON "crls"("caId", "kind", "number");
