-- TLS-RPT reports (RFC 8460) other MTAs send us about our domains.
CREATE TABLE "tls_reports" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "organization" TEXT NOT NULL,
    "report_id" TEXT NOT NULL,
    "contact_info" TEXT,
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3) NOT NULL,
    "policy_domains" TEXT[],
    "successful_sessions" INTEGER NOT NULL,
    "failed_sessions" INTEGER NOT NULL,
    "report" JSONB NOT NULL,

    CONSTRAINT "tls_reports_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "tls_reports_received_at_idx" ON "tls_reports"("received_at");

CREATE UNIQUE INDEX "tls_reports_organization_report_id_key" ON "tls_reports"("organization", "report_id");
