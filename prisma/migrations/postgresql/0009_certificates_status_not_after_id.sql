-- DropIndex
DROP INDEX "certificates_status_notAfter_idx";

-- CreateIndex
CREATE INDEX "certificates_status_notAfter_id_idx" ON "certificates"("status", "notAfter", "id");
