-- AlterTable
ALTER TABLE "cluster_encryption" ADD COLUMN     "keyRotationPeriodSeconds" INTEGER;
