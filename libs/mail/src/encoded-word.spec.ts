import { describe, expect, it } from 'vitest';
import { decodeEncodedWords } from './encoded-word';

describe('decodeEncodedWords (RFC 2047)', () => {
  it.each([
    ['plain text', 'plain text'],
    ['=?UTF-8?B?w6lsw6h2ZQ==?=', 'élève'],
    ['=?utf-8?q?caf=C3=A9_cr=C3=A8me?=', 'café crème'],
    ['=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=', 'ab'], // §6.2: whitespace between words goes
    ['=?ISO-8859-1?Q?a?=\r\n =?ISO-8859-1?Q?b?=', 'ab'],
    ['x =?ISO-8859-1?Q?=E9?= y', 'x é y'], // whitespace next to plain text stays
    ['=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=', '€'], // a character split across two words
    ['=?UTF-8*en?Q?hi?=', 'hi'], // RFC 2231 §5 language
    ['=?x-unknown-charset?Q?abc?=', '=?x-unknown-charset?Q?abc?='],
    ['=?UTF-8?X?abc?=', '=?UTF-8?X?abc?='],
    ['a=?broken', 'a=?broken'],
    ['=?windows-1252?Q?=80?= & =?koi8-r?B?8A==?=', '€ & П'],
  ])('%j → %j', (input, expected) => expect(decodeEncodedWords(input)).toBe(expected));
});
