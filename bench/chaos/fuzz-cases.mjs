// What the SMTP fuzzer sends: each case is a list of writes on one connection, made from a
// seeded random generator, so that a seed gives the same cases again.

/** mulberry32: a small seeded PRNG; `next()` in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return { next, int, pick: (list) => list[int(list.length)] };
}

const VALID = [
  'EHLO fuzz.example',
  'HELO fuzz.example',
  'MAIL FROM:<a@remote.example>',
  'MAIL FROM:<a@remote.example> SIZE=100 BODY=8BITMIME SMTPUTF8',
  'RCPT TO:<rcpt@bench.example>',
  'RCPT TO:<rcpt@bench.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y',
  'DATA',
  'BDAT 10',
  'BDAT 0 LAST',
  'RSET',
  'NOOP',
  'VRFY rcpt',
  'EXPN list',
  'HELP',
  'STARTTLS',
  'AUTH PLAIN AGFsaWNlAHNlY3JldA==',
  'AUTH LOGIN',
  'QUIT',
];

const NASTY = [
  '\0',
  '\r',
  '\n',
  '\r\n',
  ' ',
  ':',
  '<',
  '>',
  '@',
  '"',
  '\\',
  '%',
  '\x7f',
  '\xff',
  '\u00e9',
  '.',
];

/** One valid command line, mutated a few times (bytes changed, inserted, removed, repeated). */
function mutatedLine(r) {
  let line = r.pick(VALID);
  for (let k = 1 + r.int(4); k > 0; k--) {
    const at = r.int(line.length + 1);
    switch (r.int(6)) {
      case 0:
        line = line.slice(0, at) + r.pick(NASTY) + line.slice(at);
        break;
      case 1:
        line = line.slice(0, at) + line.slice(at + 1 + r.int(5));
        break;
      case 2:
        line = line.slice(0, at) + String.fromCharCode(r.int(256)) + line.slice(at + 1);
        break;
      case 3:
        line = line.slice(0, at) + line.slice(at).repeat(2 + r.int(50));
        break;
      case 4:
        line = r.next() < 0.5 ? line.toLowerCase() : line.toUpperCase();
        break;
      default:
        line = line.slice(0, at) + 'x'.repeat(r.int(3000)) + line.slice(at);
    }
  }
  return line;
}

const randomBytes = (r, n) => Buffer.from(Array.from({ length: n }, () => r.int(256)));
const lines = (list) => Buffer.from(list.map((l) => `${l}\r\n`).join(''), 'latin1');
const envelope = ['EHLO fuzz.example', 'MAIL FROM:<a@remote.example>', 'RCPT TO:<rcpt@bench.example>'];

/** BDAT framing: sizes that lie, chunks glued to commands, BDAT out of place. */
function bdatCase(r) {
  const body = Buffer.from('Subject: x\r\n\r\nhello\r\n'.repeat(1 + r.int(20)), 'latin1');
  const declared = r.pick([
    0,
    body.length - 1,
    body.length + 1,
    body.length * 2,
    2 ** 31,
    -1,
    'x',
    '10 10',
    '',
  ]);
  const head = lines(r.next() < 0.8 ? envelope : envelope.slice(0, 1));
  const tail = r.pick([
    '',
    'BDAT 0 LAST\r\n',
    'QUIT\r\n',
    'DATA\r\n',
    'RSET\r\n',
    'BDAT 5\r\nabcde',
    '.\r\n',
  ]);
  return [
    head,
    Buffer.concat([
      Buffer.from(`BDAT ${declared}${r.next() < 0.5 ? ' LAST' : ''}\r\n`),
      body,
      Buffer.from(tail),
    ]),
  ];
}

/** DATA content with dots, bare CR/LF and NUL, ended properly or not. */
function dataCase(r) {
  const parts = ['Subject: x', '.', '..', '\r.\r', '\n.\n', '\0.', 'a\rb', 'a\nb', '\0'.repeat(r.int(10))];
  const body = Array.from({ length: 1 + r.int(20) }, () => r.pick(parts)).join(r.pick(['\r\n', '\n', '\r']));
  const end = r.pick(['\r\n.\r\n', '\n.\n', '\r\n.\n', '.\r\n', '', '\r\n.\r\nQUIT\r\n']);
  return [lines([...envelope, 'DATA']), Buffer.from(body + end, 'latin1')];
}

/** The kinds of case, by name; each returns the writes of one connection. */
export const KINDS = {
  mutated: (r) => [lines(Array.from({ length: 1 + r.int(8) }, () => mutatedLine(r)))],
  random: (r) => [randomBytes(r, 1 + r.int(4096))],
  'long-line': (r) => [
    Buffer.from(
      `${r.pick(['EHLO ', 'MAIL FROM:<', 'NOOP ', ''])}${'A'.repeat(1000 + r.int(200_000))}${r.pick(['\r\n', '', '\n'])}`,
    ),
  ],
  pipelined: (r) => [
    lines(Array.from({ length: 10 + r.int(200) }, () => (r.next() < 0.7 ? r.pick(VALID) : mutatedLine(r)))),
  ],
  // Cut off inside a command or a message: the writes stop there and the socket is destroyed.
  disconnect: (r) => {
    const whole = Buffer.concat([
      lines(envelope),
      lines(['DATA']),
      Buffer.from('Subject: cut\r\n\r\nbody\r\n'),
    ]);
    return [whole.subarray(0, r.int(whole.length))];
  },
  bdat: bdatCase,
  data: dataCase,
};

/** The `index`-th case of `seed`: its kind and writes. */
export function makeCase(seed, index) {
  const r = prng((seed * 1_000_003 + index) >>> 0);
  const kind = r.pick(Object.keys(KINDS));
  return { kind, writes: KINDS[kind](r), destroy: kind === 'disconnect' || r.next() < 0.2 };
}
