import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Response } from 'express';
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
  <script>
    window.ui = SwaggerUIBundle({ url: 'openapi.json', dom_id: '#swagger-ui', deepLinking: true });
  </script>
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
  @ApiDoc({ summary: 'Browse this API (Swagger UI)', public: true, produces: 'text/html' })
  docs() {
    return PAGE;
  }

  @Get('docs/:file')
  assets(@Param('file') file: string, @Res() res: Response) {
    if (!ASSETS.has(file)) throw notFound(`/api/docs/${file}`);
    res.sendFile(path.join(assetsDir(), file), { maxAge: '1d' });
  }
}
