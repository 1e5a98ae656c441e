-- CreateTable
CREATE TABLE "kpki_meta" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "kpki_meta_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "key_materials" (
    "id" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL,
    "publicKeySpki" BYTEA NOT NULL,
    "sealedRef" BYTEA,
    "masterKeyId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "destroyedAt" TIMESTAMP(3),

    CONSTRAINT "key_materials_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "certificate_authorities" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "parentId" TEXT,
    "origin" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "internal" BOOLEAN NOT NULL DEFAULT false,
    "keyMaterialId" TEXT,
    "keyAlgorithm" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "subjectDer" BYTEA NOT NULL,
    "subjectKeyId" BYTEA NOT NULL,
    "certificateDer" BYTEA,
    "csrDer" BYTEA,
    "externalChain" BYTEA,
    "serialHex" TEXT,
    "pathLength" INTEGER,
    "notBefore" TIMESTAMP(3),
    "notAfter" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "certificate_authorities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "certificates" (
    "id" TEXT NOT NULL,
    "caId" TEXT NOT NULL,
    "serialHex" TEXT NOT NULL,
    "profile" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "commonName" TEXT,
    "subjectAltNames" TEXT NOT NULL,
    "keyAlgorithm" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "notBefore" TIMESTAMP(3) NOT NULL,
    "notAfter" TIMESTAMP(3) NOT NULL,
    "der" BYTEA NOT NULL,
    "fingerprintSha256" TEXT NOT NULL,
    "requestedBy" TEXT NOT NULL,
    "serverGeneratedKey" BOOLEAN NOT NULL,
    "idempotencyKey" TEXT,
    "requestHash" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "revocationReason" INTEGER,

    CONSTRAINT "certificates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "seq" SERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "time" TIMESTAMP(3) NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "result" TEXT NOT NULL,
    "requestId" TEXT,
    "details" TEXT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("seq")
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

-- AddForeignKey
ALTER TABLE "certificate_authorities" ADD CONSTRAINT "certificate_authorities_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "certificate_authorities"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "certificate_authorities" ADD CONSTRAINT "certificate_authorities_keyMaterialId_fkey" FOREIGN KEY ("keyMaterialId") REFERENCES "key_materials"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_caId_fkey" FOREIGN KEY ("caId") REFERENCES "certificate_authorities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
