/**
 * The schema's enums alone (values and types), without the Prisma client: `@mta/db/enums`, for
 * code that bundles them without a database (the admin API's schemas, which mtactl shares).
 */
export * from './generated/prisma/enums';
