-- AlterEnum
ALTER TYPE "event_type" ADD VALUE 'delayed';

-- AlterTable
ALTER TABLE "recipients" ADD COLUMN     "delay_notified_at" TIMESTAMPTZ(3);
