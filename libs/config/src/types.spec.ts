import { describe, expectTypeOf, it } from 'vitest';
import type { AppConfig } from './load-config';
import type { ListenAddress } from './listen-address';

describe('AppConfig types', () => {
  it('types variables with a default as always present, and optional ones as maybe undefined', () => {
    expectTypeOf<AppConfig['DATABASE_URL']>().toEqualTypeOf<string>();
    expectTypeOf<AppConfig['MX_LISTEN']>().toEqualTypeOf<ListenAddress>();
    expectTypeOf<AppConfig['DELIVERY_PORT']>().toEqualTypeOf<number>();
    expectTypeOf<AppConfig['TLS_CERT_FILE']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<AppConfig['ADMIN_TOKEN']>().toEqualTypeOf<string | undefined>();
  });
});
