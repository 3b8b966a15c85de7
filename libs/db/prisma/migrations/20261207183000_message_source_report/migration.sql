-- Reports we write ourselves (TLS-RPT, RFC 8460).
ALTER TYPE "message_source" ADD VALUE 'report';
