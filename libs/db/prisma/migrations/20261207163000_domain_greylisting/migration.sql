-- Greylisting per domain (libs/policy): null follows the GREYLISTING setting.
ALTER TABLE "domains" ADD COLUMN "greylisting" BOOLEAN;
