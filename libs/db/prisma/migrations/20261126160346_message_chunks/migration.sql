/*
  Warnings:

  - You are about to drop the column `body` on the `messages` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "messages" DROP COLUMN "body";

-- CreateTable
CREATE TABLE "message_chunks" (
    "message_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "message_chunks_pkey" PRIMARY KEY ("message_id","seq")
);

-- AddForeignKey
ALTER TABLE "message_chunks" ADD CONSTRAINT "message_chunks_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;
