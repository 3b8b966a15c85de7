-- Webhooks (issue 22, libs/webhooks): endpoints, the outbox of deliveries, and each attempt.
-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "url" TEXT NOT NULL,
    "description" TEXT,
    "event_types" TEXT[],
    "domain" TEXT,
    "sender" TEXT,
    "secret_enc" BYTEA NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "disabled_reason" TEXT,
    "disabled_at" TIMESTAMPTZ(3),
    "failing_since" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "endpoint_id" UUID NOT NULL,
    "event_id" UUID,
    "event_type" TEXT NOT NULL,
    "payload" JSONB,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_status" INTEGER,
    "last_error" TEXT,
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_attempts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "delivery_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status_code" INTEGER,
    "latency_ms" INTEGER NOT NULL,
    "error" TEXT,

    CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpoint_id_created_at_idx" ON "webhook_deliveries"("endpoint_id", "created_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_next_attempt_at_idx" ON "webhook_deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_attempts_delivery_id_at_idx" ON "webhook_attempts"("delivery_id", "at");

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The outbox: every statement that inserts events also inserts, in the same transaction, one
-- delivery per enabled endpoint that wants the event (its type, and its domain and sender
-- filters): an event cannot be committed without its deliveries, nor lost between the two.
-- Statement-level with a transition table, so the bulk inserts of the queue manager cost one
-- join, and nothing at all (one index-free probe of a small table) when no endpoint is enabled.
CREATE FUNCTION "webhook_outbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM "webhook_endpoints" WHERE "enabled") THEN
    RETURN NULL;
  END IF;
  INSERT INTO "webhook_deliveries" ("endpoint_id", "event_id", "event_type", "next_attempt_at")
  SELECT w."id", e."id", e."type"::text, e."created_at"
    FROM "new_events" e
    JOIN "webhook_endpoints" w ON w."enabled" AND e."type"::text = ANY (w."event_types")
    LEFT JOIN "recipients" r ON r."id" = e."recipient_id"
    LEFT JOIN "messages" m ON m."id" = e."message_id"
   WHERE (w."domain" IS NULL OR w."domain" = r."domain" OR w."domain" = lower(split_part(m."sender", '@', 2)))
     AND (w."sender" IS NULL OR w."sender" = lower(m."sender"));
  RETURN NULL;
END;
$$;

CREATE TRIGGER "events_webhook_outbox"
  AFTER INSERT ON "events"
  REFERENCING NEW TABLE AS "new_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "webhook_outbox"();
