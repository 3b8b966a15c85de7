import { Controller, Get, Header, Param, Req, Res } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Request, Response } from 'express';
import { notFound } from '../common/errors';
import { ApiDoc, ApiTag } from './api-doc';
import { OpenApiBuilder } from './openapi.builder';

/** Swagger UI's files, served from the swagger-ui-dist package (nothing loads from the internet). */
const ASSETS = new Set([
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'swagger-ui-standalone-preset.js',
  'favicon-32x32.png',
]);

function assetsDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/** The page's one inline script; the CSP allows it by its hash, and no other. */
const BOOT = `
    window.ui = SwaggerUIBundle({ url: 'openapi.json', dom_id: '#swagger-ui', deepLinking: true });
  `;

/**
 * The docs page's Content-Security-Policy: scripts, styles, images and the fetch of openapi.json
 * from here only (Swagger UI sets inline styles and data: images), never framed.
 */
const DOCS_CSP = [
  "default-src 'none'",
  `script-src 'self' 'sha256-${createHash('sha256').update(BOOT).digest('base64')}'`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>MTA admin API</title>
  <link rel="icon" href="docs/favicon-32x32.png">
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>${BOOT}</script>
</body>
</html>
`;

/** The OpenAPI document (`/api/openapi.json`) and a browsable Swagger UI (`/api/docs`). Public. */
@ApiTag('docs', 'This document and its browsable form.')
@Controller('api')
export class OpenApiController {
  constructor(private readonly builder: OpenApiBuilder) {}

  @Get('openapi.json')
  @ApiDoc({ summary: 'The OpenAPI 3 document of this API', public: true, response: undefined })
  openapi() {
    return this.builder.build();
  }

  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', DOCS_CSP)
  @ApiDoc({ summary: 'Browse this API (Swagger UI)', public: true, produces: 'text/html' })
  docs(@Req() req: Request, @Res() res: Response) {
    // `/api/docs/` (Express matches it here too) would resolve the page's relative links to
    // `/api/docs/docs/...`, a blank page: send the browser to `/api/docs`, relatively, so a
    // path prefix in front of us (a reverse proxy) is kept.
    if (req.path.endsWith('/')) return res.redirect(301, '../docs');
    res.send(PAGE);
  }

  @Get('docs/:file')
  assets(@Param('file') file: string, @Res() res: Response) {
    if (!ASSETS.has(file)) throw notFound(`/api/docs/${file}`);
    res.sendFile(path.join(assetsDir(), file), { maxAge: '1d' });
  }
}
