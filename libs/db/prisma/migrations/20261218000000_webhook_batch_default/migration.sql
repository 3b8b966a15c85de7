-- Webhooks (issue 22): new endpoints take batches unless created with `batch: false` (the events
-- due together in one POST, `{"events": [...]}`; one event when one is due). Endpoints that exist
-- keep what they have.
ALTER TABLE "webhook_endpoints" ALTER COLUMN "batch" SET DEFAULT true;
