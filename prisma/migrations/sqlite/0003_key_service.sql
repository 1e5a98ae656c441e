-- CreateTable
CREATE TABLE "managed_objects" (
    "uid" TEXT NOT NULL PRIMARY KEY,
    "objectType" TEXT NOT NULL,
    "algorithm" TEXT,
    "length" INTEGER,
    "curve" TEXT,
    "usageMask" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "sensitive" BOOLEAN NOT NULL,
    "extractable" BOOLEAN NOT NULL,
    "initialDate" DATETIME NOT NULL,
    "activationDate" DATETIME,
    "deactivationDate" DATETIME,
    "destroyDate" DATETIME,
    "compromiseDate" DATETIME,
    "compromiseOccurrenceDate" DATETIME,
    "revocationReason" TEXT,
    "revocationMessage" TEXT,
    "lastChangeDate" DATETIME NOT NULL,
    "keyMaterialId" TEXT,
    "publicKeySpki" BLOB,
    "keyName" TEXT,
    "keyVersion" INTEGER,
    "encryptCount" BIGINT NOT NULL DEFAULT 0,
    "decryptCount" BIGINT NOT NULL DEFAULT 0,
    "lastEncryptAt" DATETIME,
    "lastDecryptAt" DATETIME,
    "createdBy" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "managed_object_names" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    PRIMARY KEY ("uid", "name"),
    CONSTRAINT "managed_object_names_uid_fkey" FOREIGN KEY ("uid") REFERENCES "managed_objects" ("uid") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "managed_object_links" (
    "uid" TEXT NOT NULL,
    "linkType" TEXT NOT NULL,
    "linkedUid" TEXT NOT NULL,

    PRIMARY KEY ("uid", "linkType", "linkedUid"),
    CONSTRAINT "managed_object_links_uid_fkey" FOREIGN KEY ("uid") REFERENCES "managed_objects" ("uid") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "managed_object_attributes" (
    "uid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    PRIMARY KEY ("uid", "name"),
    CONSTRAINT "managed_object_attributes_uid_fkey" FOREIGN KEY ("uid") REFERENCES "managed_objects" ("uid") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "named_keys" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "algorithm" TEXT NOT NULL,
    "currentVersion" INTEGER NOT NULL,
    "minDecryptionVersion" INTEGER NOT NULL,
    "rotatePeriodSeconds" INTEGER,
    "lastRotatedAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL
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
