-- Webhooks (issue 22): batches per endpoint, and a success recorded in its delivery row alone.
-- `batch`: the endpoint takes several events per POST, as `{"events": [...]}` (opt-in: the
-- receiver must know that shape). `last_latency_ms`: the latency of the last attempt, so the
-- successful attempt lives in the delivery row (status, last_status, delivered_at) instead of a
-- `webhook_attempts` row of its own; failed attempts keep their rows.
ALTER TABLE "webhook_endpoints" ADD COLUMN "batch" BOOLEAN NOT NULL DEFAULT false;

ALTER TABLE "webhook_deliveries" ADD COLUMN "last_latency_ms" INTEGER;

-- Deliveries already delivered: their successful attempt (the last one) moves into the row.
WITH s AS (
  DELETE FROM "webhook_attempts" a USING "webhook_deliveries" d
   WHERE a."delivery_id" = d."id" AND d."status" = 'delivered' AND a."status_code" BETWEEN 200 AND 299
     AND a."at" = (SELECT max(b."at") FROM "webhook_attempts" b WHERE b."delivery_id" = d."id")
  RETURNING a."delivery_id", a."latency_ms")
UPDATE "webhook_deliveries" d SET "last_latency_ms" = s."latency_ms" FROM s WHERE d."id" = s."delivery_id";
