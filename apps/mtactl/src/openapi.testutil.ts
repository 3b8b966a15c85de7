/** The served OpenAPI document, and whether a request `METHOD /path?query` is one of its routes. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

export interface OpenApiOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

export async function openApiDocument(url: string): Promise<OpenApiDocument> {
  const response = await fetch(`${url}/api/openapi.json`);
  if (!response.ok) throw new Error(`GET /api/openapi.json: ${response.status}`);
  return (await response.json()) as OpenApiDocument;
}

/** The documented `METHOD /template` a request is, or undefined. */
export function documentedRoute(document: OpenApiDocument, request: string): string | undefined {
  const [method = '', target = ''] = request.split(' ');
  const pathname = new URL(target, 'http://x').pathname;
  for (const [template, operations] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (pattern.test(pathname) && operations[method.toLowerCase()]) return `${method} ${template}`;
  }
  return undefined;
}
