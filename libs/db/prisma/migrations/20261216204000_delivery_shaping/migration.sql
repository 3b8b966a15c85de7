-- CreateTable: per-domain traffic shaping overrides (issue 21), read by the delivery workers.
CREATE TABLE "delivery_shaping" (
    "domain" TEXT NOT NULL,
    "max_connections" INTEGER,
    "max_messages_per_connection" INTEGER,
    "max_message_rate" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "delivery_shaping_pkey" PRIMARY KEY ("domain")
);
