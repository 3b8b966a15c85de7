-- The MTA-STS policy we publish per domain (RFC 8461): its mode and extra MX host names.
CREATE TYPE "mta_sts_mode" AS ENUM ('none', 'testing', 'enforce');
ALTER TABLE "domains" ADD COLUMN "mta_sts_mode" "mta_sts_mode" NOT NULL DEFAULT 'testing';
ALTER TABLE "domains" ADD COLUMN "mta_sts_mx" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
