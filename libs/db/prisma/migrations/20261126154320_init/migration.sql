-- CreateEnum
CREATE TYPE "domain_type" AS ENUM ('local', 'relay');

-- CreateEnum
CREATE TYPE "message_source" AS ENUM ('mx', 'submission', 'bounce');

-- CreateEnum
CREATE TYPE "message_state" AS ENUM ('received', 'queued', 'held', 'done');

-- CreateEnum
CREATE TYPE "dsn_ret" AS ENUM ('FULL', 'HDRS');

-- CreateEnum
CREATE TYPE "dsn_notify" AS ENUM ('NEVER', 'SUCCESS', 'FAILURE', 'DELAY');

-- CreateEnum
CREATE TYPE "recipient_route" AS ENUM ('local', 'remote', 'relay');

-- CreateEnum
CREATE TYPE "recipient_status" AS ENUM ('queued', 'deferred', 'delivered', 'failed', 'bounced', 'held');

-- CreateEnum
CREATE TYPE "event_type" AS ENUM ('accepted', 'routed', 'deferred', 'delivered', 'failed', 'bounced', 'expired', 'held', 'released', 'deleted');

-- CreateTable
CREATE TABLE "domains" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "type" "domain_type" NOT NULL DEFAULT 'local',
    "accept_all" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "domains_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "accounts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "address" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "domain_id" UUID NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account_send_as" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_send_as_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "aliases" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "address" TEXT NOT NULL,
    "domain_id" UUID NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "aliases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alias_targets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "alias_id" UUID NOT NULL,
    "account_id" UUID,
    "address" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alias_targets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "suppressions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "address" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "suppressions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "domain_pauses" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "domain" TEXT NOT NULL,
    "reason" TEXT,
    "paused_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "domain_pauses_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messages" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "queue_id" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "source" "message_source" NOT NULL,
    "state" "message_state" NOT NULL DEFAULT 'received',
    "client_address" TEXT,
    "client_hostname" TEXT,
    "client_helo" TEXT,
    "auth_user" TEXT,
    "size" INTEGER NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "body" BYTEA NOT NULL,
    "message_id_header" TEXT,
    "from_header" TEXT,
    "subject" TEXT,
    "dsn_ret" "dsn_ret",
    "dsn_envid" TEXT,
    "smtp_utf8" BOOLEAN NOT NULL DEFAULT false,
    "eight_bit_mime" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recipients" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "message_id" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "domain" TEXT NOT NULL,
    "route" "recipient_route",
    "status" "recipient_status" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_attempt_at" TIMESTAMPTZ(3),
    "last_reply_code" INTEGER,
    "last_enhanced_code" TEXT,
    "last_reply_text" TEXT,
    "dsn_notify" "dsn_notify"[],
    "dsn_orcpt" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recipients_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "delivery_attempts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "message_id" UUID NOT NULL,
    "recipient_id" UUID NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "mx_host" TEXT,
    "ip" TEXT,
    "port" INTEGER,
    "reply_code" INTEGER,
    "enhanced_code" TEXT,
    "reply_text" TEXT,
    "tls_version" TEXT,
    "tls_cipher" TEXT,
    "tls_verified" BOOLEAN,

    CONSTRAINT "delivery_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "type" "event_type" NOT NULL,
    "message_id" UUID,
    "queue_id" TEXT,
    "recipient_id" UUID,
    "detail" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "domains_name_key" ON "domains"("name");

-- CreateIndex
CREATE UNIQUE INDEX "accounts_address_key" ON "accounts"("address");

-- CreateIndex
CREATE INDEX "accounts_domain_id_idx" ON "accounts"("domain_id");

-- CreateIndex
CREATE INDEX "account_send_as_address_idx" ON "account_send_as"("address");

-- CreateIndex
CREATE UNIQUE INDEX "account_send_as_account_id_address_key" ON "account_send_as"("account_id", "address");

-- CreateIndex
CREATE UNIQUE INDEX "aliases_address_key" ON "aliases"("address");

-- CreateIndex
CREATE INDEX "aliases_domain_id_idx" ON "aliases"("domain_id");

-- CreateIndex
CREATE INDEX "alias_targets_account_id_idx" ON "alias_targets"("account_id");

-- CreateIndex
CREATE UNIQUE INDEX "alias_targets_alias_id_account_id_key" ON "alias_targets"("alias_id", "account_id");

-- CreateIndex
CREATE UNIQUE INDEX "alias_targets_alias_id_address_key" ON "alias_targets"("alias_id", "address");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "suppressions_address_key" ON "suppressions"("address");

-- CreateIndex
CREATE UNIQUE INDEX "domain_pauses_domain_key" ON "domain_pauses"("domain");

-- CreateIndex
CREATE UNIQUE INDEX "messages_queue_id_key" ON "messages"("queue_id");

-- CreateIndex
CREATE INDEX "messages_state_received_at_idx" ON "messages"("state", "received_at");

-- CreateIndex
CREATE INDEX "messages_received_at_idx" ON "messages"("received_at");

-- CreateIndex
CREATE INDEX "messages_sender_idx" ON "messages"("sender");

-- CreateIndex
CREATE INDEX "recipients_status_next_attempt_at_idx" ON "recipients"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "recipients_domain_status_idx" ON "recipients"("domain", "status");

-- CreateIndex
CREATE UNIQUE INDEX "recipients_message_id_address_key" ON "recipients"("message_id", "address");

-- CreateIndex
CREATE INDEX "delivery_attempts_message_id_idx" ON "delivery_attempts"("message_id");

-- CreateIndex
CREATE INDEX "delivery_attempts_recipient_id_started_at_idx" ON "delivery_attempts"("recipient_id", "started_at");

-- CreateIndex
CREATE INDEX "events_created_at_idx" ON "events"("created_at");

-- CreateIndex
CREATE INDEX "events_message_id_created_at_idx" ON "events"("message_id", "created_at");

-- CreateIndex
CREATE INDEX "events_queue_id_idx" ON "events"("queue_id");

-- CreateIndex
CREATE INDEX "events_recipient_id_idx" ON "events"("recipient_id");

-- CreateIndex
CREATE INDEX "events_type_created_at_idx" ON "events"("type", "created_at");

-- AddForeignKey
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_send_as" ADD CONSTRAINT "account_send_as_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "aliases" ADD CONSTRAINT "aliases_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias_targets" ADD CONSTRAINT "alias_targets_alias_id_fkey" FOREIGN KEY ("alias_id") REFERENCES "aliases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias_targets" ADD CONSTRAINT "alias_targets_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipients" ADD CONSTRAINT "recipients_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_recipient_id_fkey" FOREIGN KEY ("recipient_id") REFERENCES "recipients"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_recipient_id_fkey" FOREIGN KEY ("recipient_id") REFERENCES "recipients"("id") ON DELETE SET NULL ON UPDATE CASCADE;
