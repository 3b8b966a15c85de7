-- AlterTable: the reference of the hard bounce that added a suppression (the message's queue id).
ALTER TABLE "suppressions" ADD COLUMN "queue_id" TEXT;
