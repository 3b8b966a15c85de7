import type { NextFunction, Request, Response } from 'express';

/**
 * The usual security headers on every HTTP answer (the admin API, health, metrics): no MIME
 * sniffing, never framed, no Referer sent on, a Content-Security-Policy that allows nothing (JSON
 * and text need nothing; the Swagger UI page sets its own), and `Cache-Control: no-store`, so
 * that API answers (tokens, message contents) stay out of caches. Swagger UI's static files keep
 * their own caching. Express's `X-Powered-By` is turned off where the app is made (bootstrap.ts).
 */
export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  if (!req.path.startsWith('/api/docs/')) res.setHeader('Cache-Control', 'no-store');
  next();
}
