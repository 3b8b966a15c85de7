-- MAIL FROM ... REQUIRETLS (RFC 8689), kept with the message for delivery.
ALTER TABLE "messages" ADD COLUMN "require_tls" BOOLEAN NOT NULL DEFAULT false;
