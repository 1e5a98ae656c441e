-- CreateTable
CREATE TABLE "kpki_meta" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "key_materials" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "backend" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL,
    "publicKeySpki" BLOB NOT NULL,
    "sealedRef" BLOB,
    "masterKeyId" TEXT,
    "createdAt" DATETIME NOT NULL,
    "destroyedAt" DATETIME
);

-- CreateTable
CREATE TABLE "certificate_authorities" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "parentId" TEXT,
    "origin" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "internal" BOOLEAN NOT NULL DEFAULT false,
    "keyMaterialId" TEXT,
    "keyAlgorithm" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "subjectDer" BLOB NOT NULL,
    "subjectKeyId" BLOB NOT NULL,
    "certificateDer" BLOB,
    "csrDer" BLOB,
    "externalChain" BLOB,
    "serialHex" TEXT,
    "pathLength" INTEGER,
    "notBefore" DATETIME,
    "notAfter" DATETIME,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "certificate_authorities_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "certificate_authorities" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "certificate_authorities_keyMaterialId_fkey" FOREIGN KEY ("keyMaterialId") REFERENCES "key_materials" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "certificates" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "caId" TEXT NOT NULL,
    "serialHex" TEXT NOT NULL,
    "profile" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "commonName" TEXT,
    "subjectAltNames" TEXT NOT NULL,
    "keyAlgorithm" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "notBefore" DATETIME NOT NULL,
    "notAfter" DATETIME NOT NULL,
    "der" BLOB NOT NULL,
    "fingerprintSha256" TEXT NOT NULL,
    "requestedBy" TEXT NOT NULL,
    "serverGeneratedKey" BOOLEAN NOT NULL,
    "idempotencyKey" TEXT,
    "requestHash" TEXT,
    "createdAt" DATETIME NOT NULL,
    "revokedAt" DATETIME,
    "revocationReason" INTEGER,
    CONSTRAINT "certificates_caId_fkey" FOREIGN KEY ("caId") REFERENCES "certificate_authorities" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME,
    "revokedAt" DATETIME,
    "lastUsedAt" DATETIME
);

-- CreateTable
CREATE TABLE "audit_events" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "id" TEXT NOT NULL,
    "time" DATETIME NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "result" TEXT NOT NULL,
    "requestId" TEXT,
    "details" TEXT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL
);

-- CreateIndex
CREATE INDEX "key_materials_masterKeyId_idx" ON "key_materials"("masterKeyId");

-- CreateIndex
CREATE UNIQUE INDEX "certificate_authorities_name_key" ON "certificate_authorities"("name");

-- CreateIndex
CREATE INDEX "certificate_authorities_parentId_idx" ON "certificate_authorities"("parentId");

-- CreateIndex
CREATE INDEX "certificates_caId_id_idx" ON "certificates"("caId", "id");

-- CreateIndex
CREATE INDEX "certificates_profile_id_idx" ON "certificates"("profile", "id");

-- CreateIndex
CREATE INDEX "certificates_commonName_id_idx" ON "certificates"("commonName", "id");

-- CreateIndex
CREATE INDEX "certificates_status_notAfter_idx" ON "certificates"("status", "notAfter");

-- CreateIndex
CREATE INDEX "certificates_notAfter_idx" ON "certificates"("notAfter");

-- CreateIndex
CREATE INDEX "certificates_fingerprintSha256_idx" ON "certificates"("fingerprintSha256");

-- CreateIndex
CREATE UNIQUE INDEX "certificates_caId_serialHex_key" ON "certificates"("caId", "serialHex");

-- CreateIndex
CREATE UNIQUE INDEX "certificates_requestedBy_idempotencyKey_key" ON "certificates"("requestedBy", "idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_tokenHash_key" ON "api_tokens"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_id_key" ON "audit_events"("id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_prevHash_key" ON "audit_events"("prevHash");

-- CreateIndex
CREATE INDEX "audit_events_time_idx" ON "audit_events"("time");

-- CreateIndex
CREATE INDEX "audit_events_actor_seq_idx" ON "audit_events"("actor", "seq");

-- CreateIndex
CREATE INDEX "audit_events_target_seq_idx" ON "audit_events"("target", "seq");
