-- AlterEnum
ALTER TYPE "event_type" ADD VALUE 'refused';

-- AlterTable
ALTER TABLE "domains" ADD COLUMN     "dmarc_enforce" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "auth_results" JSONB,
ADD COLUMN     "quarantine" BOOLEAN NOT NULL DEFAULT false;
