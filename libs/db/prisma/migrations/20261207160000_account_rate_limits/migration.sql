-- Per-account submission rate limits (libs/policy): null or a missing key means the default.
ALTER TABLE "accounts" ADD COLUMN "rate_limits" JSONB;
