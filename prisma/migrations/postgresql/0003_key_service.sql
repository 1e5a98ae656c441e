-- CreateTable
CREATE TABLE "managed_objects" (
    "uid" TEXT NOT NULL,
    "objectType" TEXT NOT NULL,
    "algorithm" TEXT,
    "length" INTEGER,
    "curve" TEXT,
    "usageMask" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "sensitive" BOOLEAN NOT NULL,
    "extractable" BOOLEAN NOT NULL,
    "initialDate" TIMESTAMP(3) NOT NULL,
    "activationDate" TIMESTAMP(3),
    "deactivationDate" TIMESTAMP(3),
    "destroyDate" TIMESTAMP(3),
    "compromiseDate" TIMESTAMP(3),
    "compromiseOccurrenceDate" TIMESTAMP(3),
    "revocationReason" TEXT,
    "revocationMessage" TEXT,
    "lastChangeDate" TIMESTAMP(3) NOT NULL,
    "keyMaterialId" TEXT,
    "publicKeySpki" BYTEA,
    "keyName" TEXT,
    "keyVersion" INTEGER,
    "encryptCount" BIGINT NOT NULL DEFAULT 0,
    "decryptCount" BIGINT NOT NULL DEFAULT 0,
    "lastEncryptAt" TIMESTAMP(3),
    "lastDecryptAt" TIMESTAMP(3),
    "createdBy" TEXT NOT NULL,

    CONSTRAINT "managed_objects_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "managed_object_names" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "managed_object_names_pkey" PRIMARY KEY ("uid","name")
);

-- CreateTable
CREATE TABLE "managed_object_links" (
    "uid" TEXT NOT NULL,
    "linkType" TEXT NOT NULL,
    "linkedUid" TEXT NOT NULL,

    CONSTRAINT "managed_object_links_pkey" PRIMARY KEY ("uid","linkType","linkedUid")
);

-- CreateTable
CREATE TABLE "managed_object_attributes" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "managed_object_attributes_pkey" PRIMARY KEY ("uid","name")
);

-- CreateTable
CREATE TABLE "named_keys" (
    "name" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL,
    "currentVersion" INTEGER NOT NULL,
    "minDecryptionVersion" INTEGER NOT NULL,
    "rotatePeriodSeconds" INTEGER,
    "lastRotatedAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "named_keys_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "managed_objects_objectType_uid_idx" ON "managed_objects"("objectType", "uid");

-- CreateIndex
CREATE INDEX "managed_objects_algorithm_uid_idx" ON "managed_objects"("algorithm", "uid");

-- CreateIndex
CREATE INDEX "managed_objects_state_uid_idx" ON "managed_objects"("state", "uid");

-- CreateIndex
CREATE INDEX "managed_objects_initialDate_idx" ON "managed_objects"("initialDate");

-- CreateIndex
CREATE INDEX "managed_objects_activationDate_idx" ON "managed_objects"("activationDate");

-- CreateIndex
CREATE INDEX "managed_objects_deactivationDate_idx" ON "managed_objects"("deactivationDate");

-- CreateIndex
CREATE INDEX "managed_objects_state_activationDate_idx" ON "managed_objects"("state", "activationDate");

-- CreateIndex
CREATE INDEX "managed_objects_state_deactivationDate_idx" ON "managed_objects"("state", "deactivationDate");

-- CreateIndex
CREATE UNIQUE INDEX "managed_objects_keyName_keyVersion_key" ON "managed_objects"("keyName", "keyVersion");

-- CreateIndex
CREATE INDEX "managed_object_names_name_uid_idx" ON "managed_object_names"("name", "uid");

-- CreateIndex
CREATE INDEX "managed_object_attributes_name_value_uid_idx" ON "managed_object_attributes"("name", "value", "uid");

-- AddForeignKey
ALTER TABLE "managed_object_names" ADD CONSTRAINT "managed_object_names_uid_fkey" FOREIGN KEY ("uid") REFERENCES "managed_objects"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "managed_object_links" ADD CONSTRAINT "managed_object_links_uid_fkey" FOREIGN KEY ("uid") REFERENCES "managed_objects"("uid") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "managed_object_attributes" ADD CONSTRAINT "managed_object_attributes_uid_fkey" FOREIGN KEY ("uid") REFERENCES "managed_objects"("uid") ON DELETE CASCADE ON UPDATE CASCADE;
